// The server's API: JSON reads, server-sent event streams, and actions (POSTs carry the
// header the server requires against cross-site requests).

export async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin" });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), { status: r.status });
  return body;
}

export async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Flux-UI": "1" },
    body: JSON.stringify(body || {}),
  });
  const out = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw Object.assign(new Error(out.error || r.statusText), { status: r.status });
  return out;
}

// subscribe opens an SSE stream and calls onData with each message; it returns the close
// function. The browser reconnects by itself when the connection drops.
export function subscribe(url, onData, onError) {
  const es = new EventSource(url);
  es.onmessage = (e) => onData(JSON.parse(e.data));
  es.onerror = () => onError && onError();
  return () => es.close();
}

export const objectPath = (o) => `/${o.kind}/${o.namespace}/${o.name}`;
export const apiPath = (o) => `/api/objects/${encodeURIComponent(o.kind)}/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.name)}`;
