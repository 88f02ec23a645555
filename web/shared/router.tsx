/**
 * A tiny history-API router (no dependency): each app has a base path (/admin/ or /portal/); pages are chosen
 * from the path below it. `navigate()` and <Link> change the URL without a reload; the server answers every
 * deep link with index.html, so reloads and bookmarks work.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

let base = '/';

export function setBase(b: string): void {
  base = b.endsWith('/') ? b : `${b}/`;
}

/** The app-relative path, e.g. "devices/42" for /admin/devices/42 ("" for the home page). */
export function currentPath(): string {
  const p = window.location.pathname;
  return p.startsWith(base) ? p.slice(base.length).replace(/\/$/, '') : '';
}

export function href(path: string): string {
  return base + path.replace(/^\//, '');
}

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  const url = href(path);
  if (opts.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current app-relative path and query; re-renders on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const on = () => setTick((t) => t + 1);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return { path: currentPath(), query: new URLSearchParams(window.location.search) };
}

/** Matches "devices/:id" against "devices/42" → { id: "42" }; undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i] as string;
    const v = b[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(v);
    else if (p !== v) return undefined;
  }
  return params;
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a {...rest} href={href(to)} onClick={onClick} />;
}
