"""One Docker GPU host from Python: the same components as the TypeScript example, through the nvidia-gpu plugin."""
import pulumi
import pulumi_nvidia_gpu as gpu

config = pulumi.Config()

node = gpu.GpuNode(
    "gpu-1",
    connection={
        "host": config.require("host"),
        "host_key": config.require("hostKey"),
        "private_key": config.require_secret("privateKey"),
    },
    runtime=gpu.ContainerRuntime.DOCKER,
    driver={"branch": "580"},
    toolkit={"version": "1.20.0-1"},
)

# Checked at preview against the node's driver: CUDA 12.4.1 needs driver 550.54.15 or newer. The same connection,
# the node's driver, and depends_on so that the container starts only after the node's last step.
smi = gpu.DockerGpuContainer(
    "nvidia-smi",
    connection={
        "host": config.require("host"),
        "host_key": config.require("hostKey"),
        "private_key": config.require_secret("privateKey"),
    },
    driver_version=node.driver_version,
    driver_branch=node.driver_branch,
    image="nvidia/cuda:12.4.1-base-ubuntu22.04",
    args=["sleep", "infinity"],
    devices=["0"],
    opts=pulumi.ResourceOptions(depends_on=[node]),
)

pulumi.export("driverVersion", node.driver_version)
pulumi.export("gpus", node.gpus)
pulumi.export("compatibility", smi.compatibility)
