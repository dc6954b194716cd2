import * as pulumi from "@pulumi/pulumi";
import { HostReader } from "../../components/hostReader";
import { HostSnapshot, WatchedFile } from "../../sdk/host/snapshot";

/** Every resource the program registered, as the mocks saw it. */
export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

/**
 * Installs Pulumi's own mocks. Call it before constructing any resource: one created earlier escapes
 * the mocks and the test would assert nothing. `stdoutFor` gives commands their simulated output in an
 * update only: in a preview a real engine leaves a command's stdout unknown, and so do these mocks.
 */
export function installMocks(preview: boolean, stdoutFor: (name: string) => string = () => "", project = "project"): Recorded[] {
    const recorded: Recorded[] = [];
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
                const state = { ...args.inputs };
                if (args.type === "command:remote:Command" && !preview) Object.assign(state, { stdout: stdoutFor(args.name), stderr: "" });
                return { id: `${args.name}-id`, state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        project,
        "stack",
        preview,
    );
    return recorded;
}

/** The value of an output (undefined while unknown in preview). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** Lets pending applies and registrations settle. */
export function settle(ms = 50): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A host reader that serves a fixed snapshot and records what it was asked for. */
export class FakeHostReader implements HostReader {
    readonly asked: WatchedFile[][] = [];
    constructor(private readonly snapshotToServe: HostSnapshot) {}

    async snapshot(_connection: unknown, files: WatchedFile[]): Promise<HostSnapshot> {
        this.asked.push(files);
        return this.snapshotToServe;
    }
}

/** The message an Output's promise rejects with, or "ok" when it resolves: how a component's refusal reads under mocks. */
export function failure(output: any): Promise<string> {
    return new Promise((resolve) =>
        output.promise().then(
            () => resolve("ok"),
            (e: Error) => resolve(e.message),
        ),
    );
}
