/**
 * The landing page's script, served as /assets/ui.js (the page policy allows no
 * inline script). It builds every node with textContent and setAttribute, never
 * innerHTML: targets, identities and reasons come from whoever typed the URL or
 * configured the gateway. Formatting follows pages/format.ts.
 */
export const CLIENT_SCRIPT = String.raw`'use strict';
(() => {
  const form = document.getElementById('probe-form');
  if (!form) return;
  const targetInput = document.getElementById('target');
  const moduleSelect = document.getElementById('module');
  const button = document.getElementById('probe-button');
  const statusEl = document.getElementById('probe-status');
  const resultEl = document.getElementById('probe-result');
  let inflight = null;

  const el = (tag, attrs, children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const c of children || []) {
      if (c === undefined || c === null || c === '') continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  };

  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const bytes = (n) => {
    let v = Number(n) || 0;
    let u = 0;
    while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
    return u === 0 ? v + ' B' : (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + UNITS[u];
  };
  const duration = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const parts = [[Math.floor(s / 86400), 'd'], [Math.floor((s % 86400) / 3600), 'h'], [Math.floor((s % 3600) / 60), 'm'], [s % 60, 's']];
    const first = parts.findIndex((p) => p[0] > 0);
    if (first < 0) return '0s';
    return parts.slice(first, first + 2).filter((p) => p[0] > 0).map((p) => p[0] + p[1]).join(' ');
  };
  const query = (target, module) => new URLSearchParams({ target, module }).toString();

  const table = (id, caption, headers, rows, empty) => {
    if (rows.length === 0) return el('p', { class: 'empty', id }, [empty]);
    const head = el('tr', { role: 'row' }, headers.map((h) => el('th', { scope: 'col', role: 'columnheader' }, [h])));
    const body = rows.map((cells) =>
      el('tr', { role: 'row' }, cells.map((c, i) => el('td', { role: 'cell', 'data-label': headers[i] }, [c]))));
    return el('div', { class: 'table-wrap' }, [
      el('table', { class: 'cards', role: 'table', id }, [
        el('caption', { class: 'sr-only' }, [caption]),
        el('thead', { role: 'rowgroup' }, [head]),
        el('tbody', { role: 'rowgroup' }, body),
      ]),
    ]);
  };
  const badge = (state, detail) => {
    const wrap = el('span', null, [el('span', { class: 'badge badge-' + String(state).replace(/[^a-z-]/g, '') }, [state])]);
    if (detail && detail !== state) wrap.append(' ', el('span', { class: 'detail' }, [detail]));
    return wrap;
  };
  const hostPort = (host, port) => {
    if (!host) return '';
    if (port === undefined || port === null) return host;
    return (host.includes(':') ? '[' + host + ']' : host) + ':' + port;
  };

  const outcomeBox = (ok, title, lines, reason) =>
    el('div', { class: 'outcome ' + (ok ? 'ok' : 'fail'), id: 'probe-outcome' }, [
      el('strong', null, [title]),
      ...lines.map((l) => el('span', null, [l])),
      reason ? el('span', { class: 'reason' }, ['Reason: ' + reason]) : null,
    ]);

  const infoList = (info, uptimeSeconds) => {
    const items = [
      ['Vendor', info.vendor], ['Product', info.product], ['Version', info.version], ['Host name', info.hostname],
      ['OS', info.os], ['Model', info.model], ['Serial', info.serial],
      ['Uptime', uptimeSeconds === undefined ? undefined : duration(uptimeSeconds)],
    ].filter((i) => i[1] !== undefined && i[1] !== '');
    return el('dl', { class: 'info', id: 'gateway-info' }, items.flatMap((i) => [el('dt', null, [i[0]]), el('dd', null, [i[1]])]));
  };

  const showResult = (r) => {
    const q = query(r.target, r.module);
    const nodes = [
      outcomeBox(r.success, r.success ? 'Success' : 'Failure', [
        'module ' + r.module + ' (' + r.prober + ')',
        'target ' + r.target,
        'took ' + r.durationSeconds.toFixed(3) + ' s',
        'at ' + new Date(r.time).toLocaleTimeString(),
      ], r.success ? '' : r.reason),
      el('p', { class: 'links' }, [
        el('a', { href: 'logs?id=' + Number(r.id), id: 'probe-log-link' }, ['Probe log #' + Number(r.id)]),
        r.success ? el('a', { href: 'sessions.html?' + q }, ['Sessions page']) : null,
        r.success ? el('a', { href: 'sessions?' + q }, ['Sessions JSON']) : null,
        el('a', { href: 'history?' + new URLSearchParams({ target: r.target }) }, ['Probes of this target']),
      ]),
    ];
    const s = r.snapshot;
    if (s) {
      const endMs = Date.parse(r.time) + r.durationSeconds * 1000;
      nodes.push(el('h2', null, ['Gateway']), infoList(s.info, s.info.uptimeSeconds));
      nodes.push(el('h2', null, ['Tunnels (' + s.tunnels.length + ')']), table('tunnels', 'Tunnels',
        ['Name', 'Kind', 'State', 'Sessions', 'Local', 'Remote', 'In', 'Out'],
        s.tunnels.map((t) => [t.name, t.kind, badge(t.state, t.detail), String(t.activeSessions), t.localAddress || '',
          t.remoteAddress || '', t.traffic ? bytes(t.traffic.bytesIn) : '', t.traffic ? bytes(t.traffic.bytesOut) : '']),
        'The gateway reports no tunnel.'));
      nodes.push(el('h2', null, ['Sessions and users (' + s.sessions.length + ')']), table('sessions', 'Sessions and users',
        ['User', 'Tunnel', 'Remote address', 'Virtual IP', 'In', 'Out', 'Connected since'],
        s.sessions.map((u) => {
          let since = '';
          if (typeof u.connectedSeconds === 'number') {
            const at = new Date(endMs - u.connectedSeconds * 1000);
            since = el('span', null, [el('time', { datetime: at.toISOString() }, [at.toLocaleString()]),
              ' ', el('span', { class: 'detail' }, ['(' + duration(u.connectedSeconds) + ')'])]);
          }
          return [u.user, u.tunnel, hostPort(u.remoteAddress, u.remotePort), u.virtualAddresses.join(', '),
            bytes(u.traffic.bytesIn), bytes(u.traffic.bytesOut), since];
        }),
        'No peer or user is connected.'));
      if (s.pools.length > 0) {
        nodes.push(el('h2', null, ['Address pools (' + s.pools.length + ')']), table('pools', 'Address pools',
          ['Name', 'Base', 'Size', 'Online', 'Offline'],
          s.pools.map((p) => [p.name, p.base || '', String(p.size), String(p.online), String(p.offline)]), ''));
      }
    }
    nodes.push(el('details', { id: 'raw-metrics' }, [
      el('summary', null, ['Raw metrics']),
      el('p', { class: 'hint' }, ['What ', el('a', { href: 'probe?' + q }, ['probe?' + q]), ' answered for this probe.']),
      el('pre', { class: 'metrics', tabindex: '0', 'aria-label': 'Metrics text' }, [r.metrics]),
    ]));
    resultEl.replaceChildren(...nodes);
    statusEl.textContent = r.success
      ? 'Probe succeeded in ' + r.durationSeconds.toFixed(3) + ' s: ' + s.tunnels.length + ' tunnel(s), ' + s.sessions.length + ' session(s).'
      : 'Probe failed: ' + r.reason;
  };

  const showError = (message) => {
    resultEl.replaceChildren(outcomeBox(false, 'Not probed', [], message));
    statusEl.textContent = 'Not probed: ' + message;
  };

  const run = async (target, module, push) => {
    if (inflight) inflight.abort();
    const ac = new AbortController();
    inflight = ac;
    const q = query(target, module);
    if (push && location.search !== '?' + q) history.pushState(null, '', '?' + q);
    document.title = target + ' · Probe · VPN Exporter';
    button.textContent = 'Probing…';
    resultEl.setAttribute('aria-busy', 'true');
    statusEl.textContent = 'Probing ' + target + ' with module ' + module + '…';
    resultEl.replaceChildren(el('p', { class: 'pending' }, [statusEl.textContent]));
    try {
      const res = await fetch('api/probe?' + q, { signal: ac.signal, headers: { Accept: 'application/json' } });
      const body = await res.json().catch(() => null);
      if (ac !== inflight) return;
      if (!res.ok || !body || typeof body.success !== 'boolean') showError((body && body.error) || 'the exporter answered HTTP ' + res.status);
      else showResult(body);
    } catch (err) {
      if (ac.signal.aborted) return;
      showError('the exporter did not answer (' + (err && err.message ? err.message : String(err)) + ')');
    } finally {
      if (ac === inflight) {
        inflight = null;
        button.textContent = 'Probe';
        resultEl.removeAttribute('aria-busy');
      }
    }
  };

  const fromLocation = () => {
    const p = new URLSearchParams(location.search);
    const target = p.get('target');
    const module = p.get('module');
    if (target !== null) targetInput.value = target;
    if (module !== null && [...moduleSelect.options].some((o) => o.value === module)) moduleSelect.value = module;
    if (target && module) run(target, module, false);
    else {
      if (inflight) inflight.abort();
      resultEl.replaceChildren();
      statusEl.textContent = '';
    }
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const target = targetInput.value.trim();
    if (!target) {
      statusEl.textContent = 'Enter a target to probe.';
      targetInput.focus();
      return;
    }
    run(target, moduleSelect.value, true);
  });
  window.addEventListener('popstate', fromLocation);
  fromLocation();
})();
`;
