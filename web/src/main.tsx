import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App';
import { feed } from './feed';
import { applyTheme, type Theme } from './hooks';
import './styles.css';

applyTheme((localStorage.getItem('agentboard.theme') as Theme | null) ?? 'system');
feed.start();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
