import { useEffect, useState } from "preact/hooks";
import { Link, useSearch, useLocation } from "wouter-preact";
import { subscribe, getJSON, post, apiPath, objectPath } from "./api.js";
import { State } from "./overview.jsx";
import { Graph } from "./graph.jsx";
import { Diff } from "./diff.jsx";
import { Tree } from "./tree.jsx";

const TABS = ["summary", "tree", "events", "diff"];

// ObjectPage shows one Flux object, live: its state and actions, and the tabs (the URL names
// the tab, so every view is a shareable link).
export function ObjectPage({ kind, namespace, name }) {
  const ref = { kind, namespace, name };
  const search = useSearch();
  const [, navigate] = useLocation();
  const tab = new URLSearchParams(search).get("tab") || "summary";
  const [d, setD] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setD(null);
    setError("");
    return subscribe("/api/stream" + apiPath(ref).slice(4), (x) => {
      if (x.error) setError(x.error); else if (x.deleted) setError(`${kind} ${namespace}/${name} was deleted`); else setD(x);
    }, () => getJSON(apiPath(ref)).catch((e) => setError(e.message)));
  }, [kind, namespace, name]);
  if (error && !d) return <p role="alert" data-testid="error">{error}</p>;
  if (!d) return <p aria-busy="true">Loading…</p>;
  return (
    <section>
      <hgroup>
        <h1 data-testid="title">{kind} {namespace}/{name}</h1>
        <p><State state={d.state} /> <span data-testid="message">{d.message}</span></p>
      </hgroup>
      <Actions d={d} />
      <nav class="tabs" aria-label="Views">
        {TABS.filter((t) => (t !== "tree" || d.hasInventory) && (t !== "diff" || d.hasDiff)).map((t) => (
          <a href={`${objectPath(ref)}?tab=${t}`} aria-current={t === tab ? "page" : undefined} data-testid={`tab-${t}`}
             onClick={(e) => { e.preventDefault(); navigate(`${objectPath(ref)}?tab=${t}`); }}>{t[0].toUpperCase() + t.slice(1)}</a>
        ))}
      </nav>
      {tab === "summary" && <Summary d={d} />}
      {tab === "tree" && <Tree obj={ref} version={d.lastHandledReconcileAt + d.revision + d.state} />}
      {tab === "events" && <Events obj={ref} version={d.lastHandledReconcileAt + d.message} />}
      {tab === "diff" && <Diff obj={ref} />}
    </section>
  );
}

// Actions are the buttons; a reconcile's outcome is read from the live object once
// status.lastHandledReconcileAt reaches the request's token.
function Actions({ d }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const act = async (action, body) => {
    setBusy(true);
    setResult(null);
    try {
      setResult({ ...(await post(apiPath(d) + "/" + action, body)), ok: true });
    } catch (e) {
      setResult({ ok: false, message: e.status === 403 ? `Refused: ${e.message}` : e.message });
    }
    setBusy(false);
  };
  const waiting = result?.ok && result.requestedAt && d.lastHandledReconcileAt !== result.requestedAt;
  const hasSource = d.kind === "Kustomization" || d.kind === "HelmRelease" || d.kind === "HelmChart";
  return (
    <div>
      <div class="actions" aria-label="Actions">
        {d.reconcilable && <button data-testid="reconcile" disabled={busy || d.suspended} onClick={() => act("reconcile")}>Reconcile</button>}
        {d.reconcilable && hasSource && <button class="secondary" data-testid="reconcile-source" disabled={busy || d.suspended} onClick={() => act("reconcile", { withSource: true })}>Reconcile with source</button>}
        {d.suspendable && !d.suspended && <button class="secondary outline" data-testid="suspend" disabled={busy} onClick={() => act("suspend")}>Suspend</button>}
        {d.suspendable && d.suspended && <button class="secondary outline" data-testid="resume" disabled={busy} onClick={() => act("resume")}>Resume</button>}
      </div>
      {result && (
        <p class="outcome" role="status" data-testid="outcome">
          {!result.ok ? <span class="state-Failed">{result.message}</span>
            : waiting ? <span aria-busy="true">{result.message}</span>
            : result.requestedAt ? <span>Reconciled: <State state={d.state} /> {d.message}</span>
            : result.message}
        </p>
      )}
    </div>
  );
}

function Summary({ d }) {
  const spec = d.spec || {};
  return (
    <>
      <article>
        <header>Conditions</header>
        <table data-testid="conditions">
          <thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th><th>Since</th></tr></thead>
          <tbody>{d.conditions.map((c) => (
            <tr><td>{c.type}</td><td>{c.status}</td><td>{c.reason}</td><td class="message">{c.message}</td><td>{c.lastTransitionTime}</td></tr>
          ))}</tbody>
        </table>
        <small>Generation {d.generation}, observed {d.observedGeneration}{d.lastHandledReconcileAt ? `, last reconcile request handled: ${d.lastHandledReconcileAt}` : ""}</small>
      </article>
      {d.source && (
        <article data-testid="source">
          <header>Source</header>
          <Link href={objectPath(d.source)}>{d.source.kind} {d.source.namespace}/{d.source.name}</Link>{" "}
          {d.source.state && <State state={d.source.state} />}
          {d.source.url && <div><small>{d.source.url}</small></div>}
          {d.source.revision && <div>Revision <code class="rev">{d.source.revision}</code>{d.source.commitURL && <> (<a href={d.source.commitURL} target="_blank" rel="noopener noreferrer">commit</a>)</>}</div>}
        </article>
      )}
      {d.revision && <p>Last revision: <code class="rev" data-testid="revision">{d.revision}</code></p>}
      <article>
        <header>Spec</header>
        <dl>{Object.entries(spec).map(([k, v]) => (<><dt><strong>{k}</strong></dt><dd><code>{typeof v === "object" ? JSON.stringify(v) : String(v)}</code></dd></>))}</dl>
      </article>
      {d.history?.length > 0 && (
        <article>
          <header>History</header>
          <ol class="timeline" data-testid="history">{d.history.map((h) => (
            <li><strong>{h.status || ""}</strong> {h.chartName ? `${h.chartName}@${h.chartVersion}` : ""} {h.digest ? <code class="rev">{h.digest}</code> : ""} <small>{h.firstDeployed || h.lastReconciled || ""} {h.lastDeployed ? `→ ${h.lastDeployed}` : ""}</small>
              {h.revision && <> <code class="rev">{h.revision}</code></>}</li>
          ))}</ol>
        </article>
      )}
      {d.graph.nodes.length > 1 && (
        <article>
          <header>Depends on</header>
          <Graph graph={d.graph} self={`${d.kind}/${d.namespace}/${d.name}`} />
        </article>
      )}
    </>
  );
}

function Events({ obj, version }) {
  const [events, setEvents] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => { getJSON(apiPath(obj) + "/events").then(setEvents, (e) => setError(e.message)); }, [version]);
  if (error) return <p role="alert">{error}</p>;
  if (!events) return <p aria-busy="true">Loading events…</p>;
  if (events.length === 0) return <p>No events.</p>;
  return (
    <table data-testid="events">
      <thead><tr><th>Last seen</th><th>Type</th><th>Reason</th><th>Message</th></tr></thead>
      <tbody>{events.map((e) => (<tr><td>{e.lastSeen}</td><td>{e.type}</td><td>{e.reason}</td><td class="message">{e.message}</td></tr>))}</tbody>
    </table>
  );
}
