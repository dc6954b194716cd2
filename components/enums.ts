/** The choices of the components' args: defined once in the sdk's spec module (sdk/spec/choices.ts), exported here. */
export { ContainerRuntime, KernelModules, DriverSource, FabricManager, RuntimeMode } from "../sdk/spec/choices";
