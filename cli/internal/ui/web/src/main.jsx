import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Route, Switch, Link } from "wouter-preact";
import { getJSON, post } from "./api.js";
import { Overview } from "./overview.jsx";
import { ObjectPage } from "./object.jsx";

function SignIn({ onDone, oidc }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    try {
      await post("/auth/token", { token });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  // The provider sends the browser back to this page once signed in.
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <article>
      <h2>Sign in</h2>
      {oidc && (
        <p><a role="button" data-testid="oidc-login" href={`/auth/oidc/login?next=${next}`}>Sign in with your identity provider</a></p>
      )}
      <form onSubmit={submit}>
        <label>
          Kubernetes bearer token
          <textarea name="token" rows="4" value={token} onInput={(e) => setToken(e.target.value)} required />
        </label>
        <button type="submit">Sign in</button>
        {error && <p role="alert" class="state-Failed">{error}</p>}
      </form>
    </article>
  );
}

function App() {
  const [who, setWho] = useState(null);
  const load = () => getJSON("/api/whoami").then(setWho, () => setWho({ signedIn: false }));
  useEffect(() => { load(); }, []);
  if (!who) return <p aria-busy="true">Loading…</p>;
  return (
    <>
      <nav>
        <ul><li><Link href="/"><strong>Flux</strong></Link></li></ul>
        <ul>
          {who.user && <li data-testid="user">{who.user}</li>}
          {who.mode === "cluster" && who.signedIn && (
            <li><a href="#" onClick={(e) => { e.preventDefault(); post("/auth/logout").then(load); }}>Sign out</a></li>
          )}
        </ul>
      </nav>
      {!who.signedIn ? (
        who.mode === "cluster" ? <SignIn onDone={load} oidc={who.oidc} /> : <p role="alert">Open the URL flux ui printed (it carries the access token).</p>
      ) : (
        <Switch>
          <Route path="/:kind/:namespace/:name">{(p) => <ObjectPage kind={p.kind} namespace={p.namespace} name={p.name} />}</Route>
          <Route><Overview /></Route>
        </Switch>
      )}
    </>
  );
}

render(<App />, document.getElementById("app"));
