// Command pulumi-resource-command is a stand-in for pulumi-command 1.2.1's
// remote.Command, built from this repository's source because the module
// github.com/pulumi/pulumi-command/provider is not served by the Go module
// proxy available here. It implements only the resource command:remote:Command.
// See README.md and SEMANTICS.md in this directory.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// providerName is the package name the engine knows the plugin by.
const providerName = "command"

// providerVersion is the version of pulumi-command this stand-in mirrors.
const providerVersion = "1.2.1"

func main() {
	err := provider.Main(providerName, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		var l engineLogger
		if host != nil {
			l = host
		}
		return newCommandProvider(l), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
