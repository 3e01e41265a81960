// The admin web UI shell: login, hash routing between the pages, and logout on 401.
import { Unauthorized, init, login, session } from './api.js';
import { h } from './dom.js';
import { mountLive } from './live-page.js';
import { mountActions, mountChannels, mountConnections, mountStatus } from './pages.js';

type Mount = (root: HTMLElement, onError: (e: unknown) => void) => () => void;

const PAGES: readonly [string, string, Mount][] = [
  ['status', 'Status', mountStatus],
  ['live', 'Live', mountLive],
  ['actions', 'Actions', mountActions],
  ['channels', 'Channels', mountChannels],
  ['connections', 'Connections', mountConnections],
];

const app = document.getElementById('app') ?? document.body;
let unmount: () => void = () => undefined;

function onError(e: unknown): void {
  if (e instanceof Unauthorized) {
    session.token = '';
    showLogin();
    return;
  }
  const bar = document.getElementById('error');
  if (bar !== null) bar.textContent = e instanceof Error ? e.message : String(e);
}

function showLogin(message = ''): void {
  unmount();
  unmount = () => undefined;
  const password = h('input', { id: 'password', type: 'password', placeholder: 'password', autocomplete: 'current-password' });
  const msg = h('p', { id: 'login-message', class: 'error' }, message);
  const form = h('form', { id: 'login' }, h('h1', {}, 'Gyre admin'), password, h('button', { type: 'submit' }, 'Log in'), msg);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    msg.textContent = '';
    login(password.value)
      .then((r) => {
        if (r.result === 'ok') showShell();
        else msg.textContent = r.result === 'throttled' ? `Too many attempts, retry in ${r.retryAfter} s` : 'Wrong password';
      })
      .catch(onError);
  });
  app.replaceChildren(form);
  password.focus();
}

function showShell(): void {
  const nav = h('nav', {}, h('strong', {}, 'Gyre'), ...PAGES.map(([id, title]) => h('a', { href: `#${id}`, id: `nav-${id}` }, title)));
  const logout = h('button', { id: 'logout', onclick: () => { session.token = ''; showLogin(); } }, 'Log out');
  nav.append(logout);
  const main = h('main');
  app.replaceChildren(nav, h('div', { id: 'error', class: 'error' }), main);
  const route = (): void => {
    unmount();
    const id = location.hash.slice(1) || 'status';
    const page = PAGES.find(([p]) => p === id) ?? PAGES[0];
    if (page === undefined) return;
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.id === `nav-${page[0]}`);
    main.replaceChildren();
    const errorBar = document.getElementById('error');
    if (errorBar !== null) errorBar.textContent = '';
    unmount = page[2](main, onError);
  };
  window.onhashchange = route;
  route();
}

init()
  .then((r) => (r.authenticated ? showShell() : showLogin()))
  .catch(onError);
