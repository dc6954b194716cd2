/**
 * pulumi-nvidia-gpu: the public API. Importing this module never creates resources.
 */
export { GpuConfigError } from "./sdk/errors";
export { RenderResult } from "./sdk/render/renderResult";
export { renderDockerConfig, DockerConfigOptions, DOCKER_DAEMON_JSON } from "./sdk/render/dockerDaemonJson";
export {
    renderContainerdConfig,
    ContainerdConfigOptions,
    ContainerdRenderResult,
    CONTAINERD_CONFIG,
    CONTAINERD_DROP_IN,
} from "./sdk/render/containerdConfig";
export { renderCrioConfig, CrioConfigOptions, CRIO_DROP_IN } from "./sdk/render/crioConfig";
export { renderToolkitConfig, parseToolkitSetting, ToolkitSetting, TOOLKIT_CONFIG } from "./sdk/render/toolkitConfig";
export { unifiedDiff } from "./sdk/unifiedDiff";
