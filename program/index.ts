// The root Pulumi program (Pulumi.yaml `main`): provisions the nodes named in the stack config.
import { provisionNodesFromConfig } from "./fleet";

export const nodes = provisionNodesFromConfig();
