import * as pulumi from "@pulumi/pulumi";
import { HostReader, checkWatchedPath } from "../../components/hostReader";
import { HostFacts } from "../../sdk/host/hostFacts";
import { HostSnapshot, WatchedFile, snapshotScript } from "../../sdk/host/snapshot";
import { quote } from "../../sdk/shell/shellScript";
import { freshSnapshot } from "./hostFixture";

/** One command line the library would send over SSH, with what it writes to the command's stdin. */
export interface SentCommand {
    /** The read-only snapshot, a step's create, or its delete (run in reverse order, as a destroy does). */
    phase: "read" | "create" | "delete";
    /** The step's name (`docker-daemon-json`), or `snapshot`. */
    label: string;
    command: string;
    stdin: string | undefined;
}

/** A resource the component registered that runs no script (Kubernetes objects): its inputs, as the engine gets them. */
export interface RegisteredObject {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

export type Outcome = { kind: "refused"; error: Error } | { kind: "accepted"; sent: SentCommand[]; objects: RegisteredObject[] };

/**
 * A stand-in for the library's SSH host reader (components/hostReader.ts SshHostReader): it makes the same checks
 * and builds the same read-only command (`sh -c <snapshot script>`), records it for the sandbox instead of sending
 * it, and answers with a fresh host's snapshot of the recorded facts.
 */
export class RecordingHostReader implements HostReader {
    readonly sent: SentCommand[] = [];
    constructor(private readonly facts: HostFacts) {}

    async snapshot(_connection: unknown, files: WatchedFile[]): Promise<HostSnapshot> {
        files.forEach(checkWatchedPath);
        this.sent.push({ phase: "read", label: "snapshot", command: `sh -c ${quote(snapshotScript(files))}`, stdin: undefined });
        return freshSnapshot(this.facts, files);
    }
}

interface MockWorld {
    registered: RegisteredObject[];
}

let world: MockWorld | undefined;

/**
 * Pulumi's own mocks in update mode (not preview), so every output is known and a command's inputs can be read
 * back as the engine would store them. Installed once per run; each case gets its own component name.
 */
export function installFuzzMocks(): void {
    const registered: RegisteredObject[] = [];
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "", stderr: "" } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        "fuzz",
        "fuzz",
        false,
    );
    world = { registered };
    // Info lines (each file's diff) are the engine's business: not printed here.
    (pulumi.log as { info: unknown }).info = () => Promise.resolve();
    (pulumi.log as { warn: unknown }).warn = () => Promise.resolve();
}

const promiseOf = <T>(o: pulumi.Output<T>): Promise<T> => (o as unknown as { promise(): Promise<T> }).promise();

/**
 * Constructs the component as a user's program does and returns what it would send: the read-only snapshot command,
 * then every step's create command (script on stdin, after the sudo password line when there is one) and its delete
 * command (undo script in argv, with the same stdin: remote.Command gives delete the create's stdin), or the error.
 */
export async function drive(
    construct: (name: string, reader: RecordingHostReader) => pulumi.Resource,
    name: string,
    facts: HostFacts,
    commandsOf: (r: pulumi.Resource) => pulumi.Output<pulumi.Resource[]>,
): Promise<Outcome> {
    if (world === undefined) throw new Error("installFuzzMocks first");
    const reader = new RecordingHostReader(facts);
    const from = world.registered.length;
    try {
        const component = construct(name, reader);
        const commands = (await promiseOf(commandsOf(component))) as Array<pulumi.Resource & Record<string, pulumi.Output<unknown>>>;
        const sent: SentCommand[] = [...reader.sent];
        for (const c of commands) {
            const [create, del, stdin] = (await Promise.all([promiseOf(c.create), promiseOf(c.delete), promiseOf(c.stdin)])) as Array<string | undefined>;
            const step = c.__name?.toString().slice(name.length + 1) ?? "step";
            sent.push({ phase: "create", label: step, command: create!, stdin });
            if (del !== undefined) sent.push({ phase: "delete", label: step, command: del, stdin });
        }
        // Registration of the last resources ends after their outputs are known.
        await new Promise((resolve) => setImmediate(resolve));
        const objects = world.registered.slice(from).filter((r) => !r.type.startsWith("nvidia-gpu:") && r.type !== "command:remote:Command");
        return { kind: "accepted", sent, objects };
    } catch (error) {
        return { kind: "refused", error: error as Error };
    }
}
