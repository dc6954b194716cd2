/**
 * pulumi-nvidia-gpu: the public API. Importing this module never creates resources.
 */
export { GpuConfigError } from "./sdk/errors";
export { RenderResult } from "./sdk/steps/renderResult";
export { renderDockerConfig, DockerConfigOptions, DOCKER_DAEMON_JSON } from "./sdk/runtime/dockerDaemonJson";
export { renderContainerdConfig, ContainerdConfigOptions, ContainerdRenderResult, CONTAINERD_CONFIG, CONTAINERD_DROP_IN } from "./sdk/runtime/containerdConfig";
export { renderCrioConfig, CrioConfigOptions, CRIO_DROP_IN } from "./sdk/runtime/crioConfig";
export { renderToolkitConfig, parseToolkitSetting, ToolkitSetting, TOOLKIT_CONFIG } from "./sdk/toolkit/toolkitConfig";
export { unifiedDiff } from "./sdk/report/unifiedDiff";

// Host facts, preflight and plans
export { HostFacts, GpuInfo, parseHostFacts } from "./sdk/host/hostFacts";
export { Finding, Severity } from "./sdk/host/preflight";
export { preflight } from "./sdk/node/preflight";
export { MINIMUM_DOCKER } from "./sdk/runtime/runtimePreflight";
export { MINIMUM_DRIVER } from "./sdk/driver/driverPreflight";
export { NodePlanData, PlanStepData, PlanFileData } from "./sdk/report/planReport";
export { InjectionModeData } from "./sdk/toolkit/injectionMode";
export { snapshotScript, parseSnapshot, HostSnapshot } from "./sdk/host/snapshot";
export { PlanStep, NodePlan } from "./sdk/steps/planStep";
export { toolkitPlan, ToolkitSpec, TOOLKIT_PACKAGES } from "./sdk/toolkit/toolkitPlan";
export { driverPlan, DriverSpec } from "./sdk/driver/driverPlan";
export { nodePlan, NodeSpec, RUNTIMES } from "./sdk/node/nodePlan";

// Pulumi components
export { ContainerRuntime, KernelModules, DriverSource, FabricManager, RuntimeMode } from "./components/enums";
export { NodeConnectionArgs } from "./components/connection";
export { HostReader, SshHostReader } from "./components/hostReader";
export { GpuComponentOptions, setDefaultHostReader } from "./components/planOnHost";
export { DriverArgs, ToolkitArgs, MigLayoutArgs, MigDeviceLayoutArgs } from "./components/nodeArgs";
export { DockerTarget } from "./components/dockerTarget";
export { GpuNode, GpuNodeArgs, NodeGpu, commandsOf, connectionOf } from "./components/gpuNode";
export { NvidiaDriver, NvidiaDriverArgs } from "./components/nvidiaDriver";
export { ContainerToolkit, ContainerToolkitArgs } from "./components/containerToolkit";
export { DockerRuntime, DockerRuntimeArgs, ContainerdRuntime, CrioRuntime, RuntimeArgs, CdiSpec, CdiSpecArgs } from "./components/runtimeComponents";
export { provisionNodesFromConfig, NodeConfig } from "./program/fleet";
export { KubernetesGpuSupport, KubernetesGpuSupportArgs, GpuSharingArgs, GpuOperatorArgs } from "./components/kubernetesGpuSupport";
export { GpuWorkload, GpuWorkloadArgs, GpuWorkloadSecurityContextArgs } from "./components/gpuWorkload";
export { ContainerEngine, DockerGpuContainer, DockerGpuContainerArgs, GpuSelection } from "./components/dockerGpuContainer";
export { PortProtocol, DockerPortArgs, DockerVolumeArgs, DockerUlimitArgs, DockerHealthcheckArgs } from "./components/dockerGpuContainer";

// Workload policy
export { parseCudaImage, checkImageAgainstDriver, parseRequireCuda, CompatibilityMode, CudaImage, CompatibilityVerdict } from "./sdk/cuda/imagePolicy";
export { driverCapabilities, DRIVER_CAPABILITIES, WORKLOAD_PRESETS } from "./sdk/cuda/driverCapabilities";
export { SharingStrategy, WorkloadKind, DEVICE_PLUGIN_IMAGE, GPU_NODE_LABEL } from "./sdk/kubernetes/manifests";
export { MigStrategy, migStrategyConflict } from "./sdk/kubernetes/migStrategy";
export { DCGM_EXPORTER_IMAGE } from "./sdk/kubernetes/dcgmExporter";

// Data-centre nodes: Fabric Manager, nvidia-persistenced, MIG layouts
export { DataCentreFacts, GpuModes, MigProfile, MigGpuInstance, MigComputeInstance } from "./sdk/host/dataCentreFacts";
export { fabricNeed, FabricNeed, FabricManagerMode } from "./sdk/datacentre/dataCentrePreflight";
export { dataCentrePlan, DataCentreSpec } from "./sdk/datacentre/dataCentrePlan";
export { MigLayoutSpec, MigDeviceLayout, resolveMigLayout, diffMigLayout, migLayoutPreview } from "./sdk/datacentre/migLayout";
