/**
 * Page frame: skip link, banner with the product name, primary navigation (a disclosure behind a Menu button
 * on narrow screens), main landmark, footer.
 */
import { type KeyboardEvent, type ReactNode, type RefObject, useEffect, useId, useRef, useState } from 'react';
import { Link } from './router.tsx';

export interface NavItem {
  to: string;
  label: string;
  /** Marks the item as the current page (aria-current). */
  current: boolean;
}

/**
 * Whether the person has done anything yet. On the first page of a visit focus stays at the top of the
 * document, so the first Tab reaches the skip link; after that, each new page moves focus to its heading.
 */
let interacted = false;
for (const type of ['keydown', 'pointerdown', 'popstate'] as const) {
  window.addEventListener(
    type,
    () => {
      interacted = true;
    },
    { capture: true, once: true },
  );
}

export function Layout(props: { product: string; nav: NavItem[]; user?: ReactNode; title: string; children: ReactNode }) {
  const mainRef = useRef<HTMLElement>(null);
  useEffect(() => {
    document.title = `${props.title} · ${props.product}`;
  }, [props.title, props.product]);
  useScrollableTables(mainRef);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="banner">
        <span className="brand">{props.product}</span>
        {props.user ? <div className="banner-user">{props.user}</div> : null}
      </header>
      {props.nav.length > 0 ? <PrimaryNav items={props.nav} /> : null}
      <main id="main" tabIndex={-1} ref={mainRef}>
        <PageTitle key={props.title}>{props.title}</PageTitle>
        {props.children}
      </main>
      <footer className="footer">Winroll</footer>
    </>
  );
}

/**
 * The main navigation. Wide screens show every link; narrow ones show a Menu button (aria-expanded) that
 * opens the list. Choosing a link or pressing Escape closes it (Escape returns focus to the button).
 */
function PrimaryNav({ items }: { items: NavItem[] }) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && open) {
      setOpen(false);
      button.current?.focus();
    }
  };
  return (
    <nav className={`primary-nav${open ? ' open' : ''}`} aria-label="Main" onKeyDown={onKeyDown}>
      <button ref={button} type="button" className="menu-button" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
        <span className="menu-icon" aria-hidden="true" />
        Menu
      </button>
      <ul id={listId}>
        {items.map((n) => (
          <li key={n.to}>
            <Link to={n.to} aria-current={n.current ? 'page' : undefined} onClick={() => setOpen(false)}>
              {n.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * Wide tables scroll sideways inside their `.table-wrap` on narrow screens. A box that scrolls must be
 * reachable by keyboard (to scroll it with the arrow keys) and named, so each one that overflows becomes a
 * focusable region named after its table's caption; one that fits goes back to being a plain box.
 */
function useScrollableTables(main: RefObject<HTMLElement | null>) {
  useEffect(() => {
    const root = main.current;
    if (!root) return;
    const mark = () => {
      for (const wrap of root.querySelectorAll<HTMLElement>('.table-wrap')) {
        const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
        if (scrolls && !wrap.hasAttribute('tabindex')) {
          const caption = wrap.querySelector('caption')?.textContent?.trim();
          wrap.tabIndex = 0;
          wrap.setAttribute('role', 'region');
          wrap.setAttribute('aria-label', caption ? `${caption} (scrolls sideways)` : 'Table (scrolls sideways)');
        } else if (!scrolls && wrap.hasAttribute('tabindex')) {
          wrap.removeAttribute('tabindex');
          wrap.removeAttribute('role');
          wrap.removeAttribute('aria-label');
        }
      }
    };
    mark();
    // Tables arrive after their data loads; attribute changes made here are not observed, so no loop.
    const mutations = new MutationObserver(mark);
    mutations.observe(root, { childList: true, subtree: true, characterData: true });
    const resize = new ResizeObserver(mark);
    resize.observe(root);
    return () => {
      mutations.disconnect();
      resize.disconnect();
    };
  }, [main]);
}

/** The page's h1; mounted anew (key) when the page changes and then takes focus, so screen readers announce it. */
function PageTitle({ children }: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (interacted) ref.current?.focus({ preventScroll: true });
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
