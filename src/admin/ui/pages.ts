// Status, Actions (an API console for every server API method), Channels and Connections pages.
import { call, userConnections, type NodeInfo } from './api.js';
import { fmtDuration, h } from './dom.js';

type OnError = (e: unknown) => void;

export function mountStatus(root: HTMLElement, onError: OnError): () => void {
  const tbody = h('tbody');
  root.append(
    h('h2', {}, 'Status'),
    h('table', { id: 'nodes' }, h('thead', {}, h('tr', {}, ...['Node', 'Version', 'Uptime', 'Connections', 'Users', 'Subscriptions', 'Channels'].map((c) => h('th', {}, c)))), tbody),
  );
  const load = (): void => {
    call('info', {})
      .then((r) => {
        const nodes = ((r.result as { nodes?: NodeInfo[] } | undefined)?.nodes ?? []).slice().sort((a, b) => a.name.localeCompare(b.name));
        tbody.replaceChildren(
          ...nodes.map((n) =>
            h('tr', { 'data-uid': n.uid }, ...[n.name, n.version, fmtDuration(n.uptime), String(n.num_clients), String(n.num_users), String(n.num_subs), String(n.num_channels)].map((c) => h('td', {}, c))),
          ),
        );
      })
      .catch(onError);
  };
  load();
  const t = setInterval(load, 3000);
  return () => clearInterval(t);
}

/** Example params per method (editable in the console). */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  publish: { channel: 'news', data: { text: 'hello' } },
  broadcast: { channels: ['news', 'chat'], data: { text: 'hello' } },
  subscribe: { user: '42', channel: 'news' },
  unsubscribe: { user: '42', channel: 'news' },
  disconnect: { user: '42' },
  presence: { channel: 'news' },
  presence_stats: { channel: 'news' },
  history: { channel: 'news', limit: 10 },
  history_remove: { channel: 'news' },
  info: {},
  rpc: { method: 'ping', params: {} },
  refresh: { user: '42', expired: true },
  channels: { pattern: '*' },
};

export function mountActions(root: HTMLElement, onError: OnError): () => void {
  const method = h('select', { id: 'method' }, ...Object.keys(EXAMPLES).map((m) => h('option', { value: m }, m)));
  const params = h('textarea', { id: 'params', rows: '8', spellcheck: 'false' });
  const out = h('pre', { id: 'result' });
  const fill = (): void => {
    params.value = JSON.stringify(EXAMPLES[method.value] ?? {}, null, 2);
  };
  method.addEventListener('change', fill);
  fill();
  const send = h('button', {
    id: 'send',
    onclick: () => {
      let p: unknown;
      try {
        p = JSON.parse(params.value);
      } catch {
        out.textContent = 'params: invalid JSON';
        return;
      }
      out.textContent = '…';
      call(method.value, p)
        .then((r) => {
          out.textContent = JSON.stringify(r, null, 2);
        })
        .catch(onError);
    },
  }, 'Send');
  root.append(h('h2', {}, 'Actions'), h('div', { class: 'form' }, h('label', {}, 'Method ', method), params, send), out);
  return () => undefined;
}

export function mountChannels(root: HTMLElement, onError: OnError): () => void {
  const pattern = h('input', { id: 'pattern', value: '*', placeholder: 'glob pattern' });
  const tbody = h('tbody');
  const load = (): void => {
    call('channels', { pattern: pattern.value })
      .then((r) => {
        const ch = (r.result as { channels?: Record<string, { num_clients: number }> } | undefined)?.channels ?? {};
        const rows = Object.entries(ch).sort((a, b) => b[1].num_clients - a[1].num_clients || a[0].localeCompare(b[0]));
        tbody.replaceChildren(...rows.slice(0, 1000).map(([name, c]) => h('tr', {}, h('td', {}, name), h('td', {}, String(c.num_clients)))));
      })
      .catch(onError);
  };
  root.append(
    h('h2', {}, 'Channels'),
    h('div', { class: 'form' }, pattern, h('button', { id: 'refresh', onclick: load }, 'Refresh')),
    h('table', { id: 'channels' }, h('thead', {}, h('tr', {}, h('th', {}, 'Channel'), h('th', {}, 'Subscribers'))), tbody),
  );
  load();
  return () => undefined;
}

export function mountConnections(root: HTMLElement, onError: OnError): () => void {
  const user = h('input', { id: 'user', placeholder: 'user ID' });
  const tbody = h('tbody');
  const note = h('p', { class: 'muted', id: 'conn-note' }, 'Connections of a user on every node.');
  const load = (): void => {
    userConnections(user.value)
      .then(({ connections: list, complete }) => {
        const nodes = new Set(list.map((c) => c.node)).size;
        note.textContent =
          `${list.length} connection(s) of user "${user.value}" on ${nodes} node(s).` +
          (complete ? '' : ' Some nodes did not answer: the list is partial.');
        tbody.replaceChildren(
          ...list.map((c) =>
            h('tr', { 'data-client': c.client },
              ...[c.node, c.client, c.remote_address, `${c.transport}/${c.protocol}`, `${c.client_name} ${c.client_version}`.trim(), c.channels.join(', ')].map((v) => h('td', {}, v)),
              h('td', {}, h('button', {
                class: 'disconnect',
                onclick: () => {
                  call('disconnect', { user: c.user, client: c.client })
                    .then(() => setTimeout(load, 200))
                    .catch(onError);
                },
              }, 'Disconnect')),
            ),
          ),
        );
      })
      .catch(onError);
  };
  root.append(
    h('h2', {}, 'Connections'),
    h('div', { class: 'form' }, user, h('button', { id: 'find', onclick: load }, 'Find')),
    note,
    h('table', { id: 'connections' }, h('thead', {}, h('tr', {}, ...['Node', 'Client', 'Address', 'Transport', 'Client name', 'Channels', ''].map((c) => h('th', {}, c)))), tbody),
  );
  return () => undefined;
}
