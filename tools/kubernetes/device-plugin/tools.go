//go:build tools

// The command setup.sh builds; this file only pins it in go.mod.
package tools

import (
	_ "github.com/NVIDIA/k8s-device-plugin/cmd/nvidia-device-plugin"
)
