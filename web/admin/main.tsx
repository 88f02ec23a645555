/** Admin console entry (served at /admin/). */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { App } from './app.tsx';
import { setBase } from '../shared/router.tsx';

setBase('/admin/');

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
