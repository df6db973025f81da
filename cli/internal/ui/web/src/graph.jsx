import dagre from "@dagrejs/dagre";
import { Link } from "wouter-preact";

const W = 260, H = 34;

// Graph lays out the dependsOn graph with dagre (edges go from dependent to dependency).
export function Graph({ graph, self }) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 12, ranksep: 40 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: W, height: H, state: n.state });
  for (const [from, to] of graph.edges) g.setEdge(from, to);
  dagre.layout(g);
  const { width, height } = g.graph();
  return (
    <svg class="graph" data-testid="graph" width={width + 20} height={height + 20} role="img" aria-label="dependsOn graph">
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" /></marker></defs>
      <g transform="translate(10,10)">
        {g.edges().map((e) => {
          const pts = g.edge(e).points;
          return <path d={"M" + pts.map((p) => `${p.x},${p.y}`).join(" L")} />;
        })}
        {g.nodes().map((id) => {
          const n = g.node(id);
          const [kind, ns, name] = id.split("/");
          return (
            <g class={id === self ? "self" : ""} transform={`translate(${n.x - W / 2},${n.y - H / 2})`}>
              <rect width={W} height={H} rx="4" />
              <Link href={`/${kind}/${ns}/${name}`}><text x="8" y="21">{`${ns}/${name}`}</text></Link>
              <text x={W - 8} y="21" text-anchor="end" class={`state-${n.state}`}>{n.state}</text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}
