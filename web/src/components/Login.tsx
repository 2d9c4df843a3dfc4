import { type FormEvent, useState } from 'react';
import { api, errorText, saveToken } from '../api';

/** Off loopback the API wants its token: kept in a cookie, which EventSource sends too. */
export function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    saveToken(token.trim());
    try {
      await api('/tasks?limit=1');
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div className="login">
      <form onSubmit={submit} className="panel">
        <h1>agentboard</h1>
        <p>
          This board is reachable from the network, so it needs its API token. It was printed when{' '}
          <code>agentboard serve</code> first started; <code>agentboard token rotate</code> makes a
          new one.
        </p>
        <label>
          API token
          <input
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            required
          />
        </label>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={!token.trim()}>
          Open the board
        </button>
      </form>
    </div>
  );
}
