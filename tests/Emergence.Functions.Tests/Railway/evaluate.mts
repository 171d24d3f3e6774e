// Evaluates a Railway IaC file with the pinned SDK, as `railway config plan` would, without an
// account or the network: runs its program with a production context, assembles the graph
// (resources, and a mount edge for every volume attachment), validates it with the SDK's own
// validateGraph, and prints {graph, errors} as JSON. Usage: tsx evaluate.mts PATH/railway.ts
import { pathToFileURL } from "node:url";
import { RAILWAY_GRAPH_VERSION, createRailwayContext, project, validateGraph } from "railway/iac";
import type { Edge, RailwayGraph, RailwayProgram, ResourceNode } from "railway/iac";

const file = process.argv[2];
if (!file) {
  throw new Error("usage: evaluate.mts PATH/railway.ts");
}

const module = (await import(pathToFileURL(file).href)) as { default?: RailwayProgram };
if (typeof module.default !== "function") {
  throw new Error(`${file} has no default export made with defineRailway`);
}

const context = createRailwayContext({ command: "plan", environment: "production" });
const definition = await module.default(context, project);
const resources = (definition.resources ?? []).flat() as ResourceNode[];
const edges: Edge[] = [];
for (const resource of resources) {
  if (resource.type === "service") {
    for (const [key, attachment] of Object.entries(resource.volumeAttachments ?? {})) {
      edges.push({ from: resource.address, to: attachment.volume, type: "mount", key });
    }
  }
}

const graph: RailwayGraph = {
  version: RAILWAY_GRAPH_VERSION,
  project: { name: definition.name },
  environments: (definition.environments ?? ["production"]).map((name) => ({ name })),
  resources,
  edges,
};
process.stdout.write(JSON.stringify({ graph, errors: validateGraph(graph) }));
