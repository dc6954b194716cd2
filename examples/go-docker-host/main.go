// One Docker GPU host from Go: the same GpuNode as the TypeScript, Python and YAML examples, through the
// nvidia-gpu plugin, from stack config.
//
//	host, hostKey, privateKey (secret)    required
//	port, user                            optional: SSH port (22) and user (root)
//	driverBranch                          optional: pin a driver branch ("580")
//	toolkitVersion, repoUrl, keyFingerprint  optional: the Container Toolkit version and a mirror of NVIDIA's repository
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	gpu "github.com/pulumi-nvidia-gpu/sdk/go/nvidiagpu"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		connection := gpu.NodeConnectionArgsArgs{
			Host:       pulumi.String(cfg.Require("host")),
			HostKey:    pulumi.String(cfg.Require("hostKey")),
			PrivateKey: cfg.RequireSecret("privateKey"),
		}
		if port, err := cfg.TryInt("port"); err == nil {
			connection.Port = pulumi.Float64(float64(port))
		}
		if user := cfg.Get("user"); user != "" {
			connection.User = pulumi.String(user)
		}
		toolkitVersion := cfg.Get("toolkitVersion")
		if toolkitVersion == "" {
			toolkitVersion = "1.20.0-1"
		}
		args := &gpu.GpuNodeArgs{
			Connection: connection,
			Runtime:    gpu.ContainerRuntimeDocker,
			Toolkit:    &gpu.ToolkitArgsArgs{Version: pulumi.String(toolkitVersion)},
		}
		if repo := cfg.Get("repoUrl"); repo != "" {
			args.Toolkit.RepoUrl = pulumi.String(repo)
		}
		if fingerprint := cfg.Get("keyFingerprint"); fingerprint != "" {
			args.Toolkit.KeyFingerprint = pulumi.String(fingerprint)
		}
		if branch := cfg.Get("driverBranch"); branch != "" {
			args.Driver = &gpu.DriverArgsArgs{Branch: pulumi.String(branch)}
		}
		node, err := gpu.NewGpuNode(ctx, "gpu", args)
		if err != nil {
			return err
		}
		ctx.Export("steps", node.Steps)
		ctx.Export("toolkitVersion", node.ToolkitVersion)
		ctx.Export("dockerHost", node.DockerHost)
		ctx.Export("driverVersion", node.DriverVersion)
		return nil
	})
}
