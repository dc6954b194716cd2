// Command pulumi-gen-go writes the Go SDK of a package schema: what `pulumi package gen-sdk --language go` does,
// but without the language host's GeneratePackage call: the Go host built here (sdk/v3 v3.52.0's
// go/pulumi-language-go; v3.62.0, the newest sdk/v3 the Go module proxy serves with the host in it, has none
// either) answers "unknown method GeneratePackage". It runs the same generator, pkg/v3's codegen/go, at the
// CLI's version, and writes the SDK as one Go module:
//
//	pulumi-gen-go [-module PATH] [-sdk-version VERSION] SCHEMA.json OUT_DIR
//
// OUT_DIR/go.mod declares PATH (the import path of the package too) and requires
// github.com/pulumi/pulumi/sdk/v3 at VERSION; a program uses it with a replace directive, or from a repository
// that serves PATH.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noPackages loads no other package: the schema has no dependencies, and a reference to one is an error.
type noPackages struct{}

func (noPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: the schema may not depend on other packages", pkg)
}

func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: the schema may not depend on other packages", d.Name)
}

func (noPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: the schema may not depend on other packages", pkg)
}

func (noPackages) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: the schema may not depend on other packages", d.Name)
}

func main() {
	module := flag.String("module", "github.com/pulumi-nvidia-gpu/sdk/go/nvidiagpu", "module and import path of the SDK")
	sdkVersion := flag.String("sdk-version", "v3.248.0", "version of github.com/pulumi/pulumi/sdk/v3 that the SDK requires")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: pulumi-gen-go [-module PATH] [-sdk-version VERSION] SCHEMA.json OUT_DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(64)
	}
	if err := generate(flag.Arg(0), flag.Arg(1), *module, *sdkVersion); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-gen-go: %v\n", err)
		os.Exit(1)
	}
}

func generate(schemaFile, out, module, sdkVersion string) error {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaFile, err)
	}
	// The import path is ours to choose: the schema names no repository, from which codegen/go would guess one.
	goInfo := map[string]any{}
	if raw, ok := spec.Language["go"]; ok {
		if err := json.Unmarshal(raw, &goInfo); err != nil {
			return fmt.Errorf("%s: language.go: %w", schemaFile, err)
		}
	}
	goInfo["importBasePath"] = module
	goInfo["modulePath"] = module
	raw, err := json.Marshal(goInfo)
	if err != nil {
		return err
	}
	if spec.Language == nil {
		spec.Language = map[string]schema.RawMessage{}
	}
	spec.Language["go"] = raw

	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	files, err := gogen.GeneratePackage("pulumi-gen-go", pkg, nil)
	if err != nil {
		return err
	}
	// codegen/go puts the package under a folder named for it (nvidia-gpu/); the module is that folder.
	prefix := ""
	for name := range files {
		if path.Base(name) == "pulumi-plugin.json" {
			prefix = path.Dir(name)
		}
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for name, content := range files {
		rel, ok := strings.CutPrefix(name, prefix+"/")
		if !ok {
			continue // .gitattributes, outside the module
		}
		if err := write(filepath.Join(out, filepath.FromSlash(rel)), content); err != nil {
			return err
		}
	}
	goMod := fmt.Sprintf("module %s\n\ngo 1.21\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n", module, sdkVersion)
	return write(filepath.Join(out, "go.mod"), []byte(goMod))
}

func write(file string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, content, 0o644)
}
