package dyorctlcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/internal/buildinfo"
)

// NewCmdVersion returns dyorctl version.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of dyorctl",
		Example: `  dyorctl version
  dyorctl version -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := buildinfo.String("dyorctl")
			if f.JSON() {
				return f.PrintJSON(struct {
					Version string `json:"version"`
				}{v})
			}
			_, err := fmt.Fprintln(f.IO.Out, v)
			return err
		},
	}
}
