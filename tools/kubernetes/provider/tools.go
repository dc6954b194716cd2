//go:build tools

// The packages setup.sh builds the provider from (its main.go and generate.go are copied out of the module,
// because main.go embeds files that `go generate` writes and the module zip lacks); this file only pins them.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
