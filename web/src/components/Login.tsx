import { type FormEvent, useState } from 'react';
import { errorText, logIn } from '../api';

/** The API wants the owner's token: pasted here, the server keeps it in an HttpOnly cookie. */
export function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await logIn(token.trim());
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
          This board needs its API token. On the machine it runs on, <code>agentboard open</code>{' '}
          opens it here logged in, with no token to copy. Or paste the token{' '}
          <code>agentboard token show</code> prints.
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
