# The dyormock container image, built by goreleaser (dockers_v2) from the
# linux binaries it has already built: the build context holds
# linux/amd64/dyormock and linux/arm64/dyormock.
#   docker run --rm -p 8080:8080 ghcr.io/dyor-exchange/dyormock
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/dyormock /dyormock
EXPOSE 8080
# Listen on every interface inside the container. The readiness line prints
# http://127.0.0.1:8080 and says that this is the container's address: that
# is told by "container" (the variable systemd and Podman set), so under any
# runtime, not only those that create /.dockerenv.
ENV DYORMOCK_ADDR=0.0.0.0:8080 container=oci
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
  CMD ["/dyormock", "healthcheck", "--url", "http://127.0.0.1:8080"]
USER nonroot:nonroot
ENTRYPOINT ["/dyormock"]
