/** Page frame: skip link, banner with the product name, primary navigation, main landmark, footer. */
import { type ReactNode, useEffect, useRef } from 'react';
import { Link } from './router.tsx';

export interface NavItem {
  to: string;
  label: string;
  /** Marks the item as the current page (aria-current). */
  current: boolean;
}

export function Layout(props: { product: string; nav: NavItem[]; user?: ReactNode; title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · ${props.product}`;
  }, [props.title, props.product]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="banner">
        <span className="brand">{props.product}</span>
        {props.user ? <div className="banner-user">{props.user}</div> : null}
      </header>
      {props.nav.length > 0 ? (
        <nav className="primary-nav" aria-label="Main">
          <ul>
            {props.nav.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.current ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" tabIndex={-1}>
        <PageTitle key={props.title}>{props.title}</PageTitle>
        {props.children}
      </main>
      <footer className="footer">Winroll</footer>
    </>
  );
}

/** The page's h1; mounted anew (key) when the page changes and then takes focus, so screen readers announce it. */
function PageTitle({ children }: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A polite live region for "Loading…", results and errors. */
export function Status({ error, children }: { error?: string | null | undefined; children?: ReactNode }) {
  if (error)
    return (
      <div className="alert alert-error" role="alert">
        {error}
      </div>
    );
  if (!children) return null;
  return (
    <div className="alert alert-info" role="status">
      {children}
    </div>
  );
}
