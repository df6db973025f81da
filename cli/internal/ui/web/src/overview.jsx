import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";
import { subscribe, objectPath } from "./api.js";

const STATES = ["Stalled", "Failed", "Reconciling", "Suspended", "Unknown", "Ready"];
const LIMIT = 100;

export function State({ state }) {
  return <span class={`state state-${state}`} data-state={state}>{state}</span>;
}

// Overview lists every Flux object the viewer may see, failures first, a page at a time,
// updated live. The filters live in the URL, so a filtered view is a link one can share.
export function Overview() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");
  const searchBox = useRef(null);
  const setParam = (k, v) => {
    const p = new URLSearchParams(search);
    if (v) p.set(k, v); else p.delete(k);
    if (k !== "offset") p.delete("offset");
    navigate("/?" + p.toString(), { replace: true });
  };
  useEffect(() => {
    const p = new URLSearchParams(search);
    p.set("limit", LIMIT);
    return subscribe("/api/stream/objects?" + p.toString(), (d) => { setError(d.error || ""); setPage(d); }, () => setError("connection lost, reconnecting…"));
  }, [search]);
  useEffect(() => {
    const onKey = (e) => {
      if (e.key === "/" && document.activeElement?.tagName !== "INPUT") { e.preventDefault(); searchBox.current?.focus(); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const offset = Number(params.get("offset") || 0);
  return (
    <section>
      <h1>Flux objects</h1>
      {error && <p role="alert">{error}</p>}
      {page && (
        <div class="counts" data-testid="counts">
          {STATES.filter((s) => page.states[s]).map((s) => (
            <button class="outline secondary" data-testid={`state-${s}`} onClick={() => setParam("state", params.get("state") === s ? "" : s)} aria-pressed={params.get("state") === s}>
              <State state={s} /> {page.states[s]}
            </button>
          ))}
        </div>
      )}
      <div class="filters">
        <input ref={searchBox} type="search" placeholder="Search (press /)" aria-label="Search" value={params.get("q") || ""} onInput={(e) => setParam("q", e.target.value)} data-testid="search" />
        <select aria-label="Kind" value={params.get("kind") || ""} onChange={(e) => setParam("kind", e.target.value)}>
          <option value="">All kinds</option>
          {(page?.kinds || []).map((k) => <option value={k}>{k}{page.counts[k] ? ` (${Object.values(page.counts[k]).reduce((a, b) => a + b, 0)})` : ""}</option>)}
        </select>
        <select aria-label="State" value={params.get("state") || ""} onChange={(e) => setParam("state", e.target.value)}>
          <option value="">All states</option>
          {STATES.map((s) => <option value={s}>{s}</option>)}
        </select>
        <input type="text" placeholder="Namespace" aria-label="Namespace" value={params.get("namespace") || ""} onChange={(e) => setParam("namespace", e.target.value)} />
      </div>
      {!page ? <p aria-busy="true">Loading…</p> : (
        <>
          {!page.synced && <p aria-busy="true">Listing Flux objects…</p>}
          <table class="striped" data-testid="objects">
            <thead><tr><th>Kind</th><th>Namespace</th><th>Name</th><th>State</th><th>Revision</th><th>Message</th></tr></thead>
            <tbody>
              {page.items.map((r) => (
                <tr data-testid="row" data-key={`${r.kind}/${r.namespace}/${r.name}`}>
                  <td>{r.kind}</td>
                  <td>{r.namespace}</td>
                  <td><Link href={objectPath(r)}>{r.name}</Link></td>
                  <td><State state={r.state} /></td>
                  <td><code class="rev">{r.revision}</code></td>
                  <td class="message">{r.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {/* The range is the page's own (page.offset), not the URL's: until the server's page
              for a new offset arrives, the rows on screen are the previous page's. */}
          <p>
            <span data-testid="range">{page.total === 0 ? "Nothing matches." : `${page.offset + 1}–${page.offset + page.items.length} of ${page.total}`}</span>{" "}
            {offset > 0 && <button class="secondary" data-testid="previous" onClick={() => setParam("offset", String(Math.max(0, offset - LIMIT)))}>Previous</button>}{" "}
            {offset + page.items.length < page.total && <button class="secondary" data-testid="next" onClick={() => setParam("offset", String(offset + LIMIT))}>Next</button>}
          </p>
        </>
      )}
    </section>
  );
}
