import { useEffect, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { getJSON, apiPath } from "./api.js";
import { State } from "./overview.jsx";

const FLUX = { "kustomize.toolkit.fluxcd.io": true, "helm.toolkit.fluxcd.io": true };

// Tree is the resource tree: the inventory, nested Kustomizations and HelmReleases expanded,
// workloads down to their Pods, each with its health.
export function Tree({ obj, version }) {
  const [tree, setTree] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => { getJSON(apiPath(obj) + "/tree").then(setTree, (e) => setError(e.message)); }, [version]);
  if (error) return <p role="alert">{error}</p>;
  if (!tree) return <p aria-busy="true">Reading the inventory…</p>;
  return (
    <div class="tree" data-testid="tree">
      <p><small>{tree.nodes} objects{tree.truncated ? " (cut: too many to show)" : ""}</small></p>
      <ul><Node n={tree.root} /></ul>
    </div>
  );
}

function Node({ n }) {
  const id = `${n.kind}/${n.namespace ? n.namespace + "/" : ""}${n.name}`;
  const label = FLUX[n.group] ? <Link href={`/${n.kind}/${n.namespace}/${n.name}`}>{id}</Link> : id;
  return (
    <li data-testid="node" data-id={id}>
      {label} {n.health && <State state={n.health} />} {n.message && <small>{n.message}</small>}
      {n.children?.length > 0 && <ul>{n.children.map((c) => <Node n={c} />)}</ul>}
    </li>
  );
}
