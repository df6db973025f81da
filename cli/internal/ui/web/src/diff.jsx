import { useEffect, useRef, useState } from "preact/hooks";
import { MergeView } from "@codemirror/merge";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { yaml } from "@codemirror/lang-yaml";
import { syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { oneDark } from "@codemirror/theme-one-dark";
import { getJSON, apiPath } from "./api.js";

// Diff shows what the next reconcile would change (the server computes it as flux diff
// does), each object side by side: live on the left, after the apply on the right.
export function Diff({ obj }) {
  const [res, setRes] = useState(null);
  const [error, setError] = useState("");
  const [n, setN] = useState(0);
  useEffect(() => { setRes(null); setError(""); getJSON(apiPath(obj) + "/diff").then(setRes, (e) => setError(e.message)); }, [n]);
  return (
    <div data-testid="diff">
      <button class="secondary" onClick={() => setN(n + 1)}>Compute again</button>
      {error && <p role="alert">{error}</p>}
      {!res && !error && <p aria-busy="true">Dry-running the next reconcile…</p>}
      {res?.error && <p role="alert" class="state-Failed">{res.error}</p>}
      {res && res.changes.length === 0 && !res.error && <p data-testid="no-changes">No changes: the cluster matches the source.</p>}
      {res?.changes.map((c) => <DiffEntry c={c} />)}
    </div>
  );
}

const dark = window.matchMedia?.("(prefers-color-scheme: dark)").matches;

function DiffEntry({ c }) {
  const el = useRef(null);
  useEffect(() => {
    if (!c.before && !c.after) return;
    const ext = [yaml(), EditorView.editable.of(false), EditorState.readOnly.of(true), dark ? oneDark : syntaxHighlighting(defaultHighlightStyle)];
    const view = new MergeView({ a: { doc: c.before || "", extensions: ext }, b: { doc: c.after || "", extensions: ext }, parent: el.current, collapseUnchanged: { margin: 3 } });
    return () => view.destroy();
  }, [c]);
  return (
    <div class="diff-entry" data-testid="diff-entry" data-action={c.action}>
      <h4>{c.action === "created" ? "✚" : "►"} {c.object} {c.action}</h4>
      <div ref={el} />
    </div>
  );
}
