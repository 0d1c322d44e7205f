package api

import "net/http"

// Paths of the account API and of the health check.
const (
	BasePath     = "/api/v1/account"
	RegisterPath = BasePath + "/register"
	LoginPath    = BasePath + "/login"
	RefreshPath  = BasePath + "/refresh"
	LogoutPath   = BasePath + "/logout"
	HealthPath   = "/healthz"
)

// Auth says which token a route takes in its Authorization header.
type Auth int

const (
	AuthNone            Auth = iota // no token
	AuthRefresh                     // "Bearer <refresh token>"
	AuthAccessOrRefresh             // "Bearer <access or refresh token>"
)

// A Route is one route of the account API.
type Route struct {
	Name   string // "register", "login", "refresh" or "logout": what fault rules and journals call it
	Method string
	Path   string
	Auth   Auth
	// Body says whether the request carries {"username","password"}.
	Body bool
	// Tokens says whether a success answers {"token":{"access","refresh"}}
	// (otherwise the result is {}).
	Tokens bool
}

// Routes are the four routes of the account API.
var Routes = []Route{
	{Name: "register", Method: http.MethodPost, Path: RegisterPath, Body: true},
	{Name: "login", Method: http.MethodPost, Path: LoginPath, Body: true, Tokens: true},
	{Name: "refresh", Method: http.MethodGet, Path: RefreshPath, Auth: AuthRefresh, Tokens: true},
	{Name: "logout", Method: http.MethodDelete, Path: LogoutPath, Auth: AuthAccessOrRefresh},
}

// RouteByName returns the route called name ("login", …).
func RouteByName(name string) (Route, bool) {
	for _, r := range Routes {
		if r.Name == name {
			return r, true
		}
	}
	return Route{}, false
}

// RouteByPath returns the route at path.
func RouteByPath(path string) (Route, bool) {
	for _, r := range Routes {
		if r.Path == path {
			return r, true
		}
	}
	return Route{}, false
}
