// A fleet from stack config: the same program as the repository's root program (Pulumi.yaml, program/),
// here as a project of its own. Nodes are listed under `nodes` in Pulumi.<stack>.yaml.
import { provisionNodesFromConfig } from "pulumi-nvidia-gpu";

export const nodes = provisionNodesFromConfig();
