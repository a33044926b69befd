/**
 * The landing page's script, bundled into /assets/ui.js (routes/assets.ts; the
 * page policy allows no inline script). It runs the probe form through
 * /api/probe and draws the answer, keeping the URL bookmarkable: ?target=&module=
 * reruns the probe, Back and Forward replay it.
 */
import { el } from './dom.js';
import { startFleet } from './fleet.js';
import { outcomeBox, query, resultNodes, resultStatus, type ProbeResult } from './result.js';

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T | null {
  const node = document.getElementById(id);
  return node instanceof type ? node : null;
}

function start(): void {
  const form = byId('probe-form', HTMLFormElement);
  const targetInput = byId('target', HTMLInputElement);
  const moduleSelect = byId('module', HTMLSelectElement);
  const button = byId('probe-button', HTMLButtonElement);
  const statusEl = byId('probe-status', HTMLElement);
  const resultEl = byId('probe-result', HTMLElement);
  // Only the landing page has the form.
  if (!form || !targetInput || !moduleSelect || !button || !statusEl || !resultEl) return;
  // The probe in flight: a newer one aborts it, so a slow answer never overwrites a later one.
  let inflight: AbortController | null = null;

  const showError = (message: string): void => {
    resultEl.replaceChildren(outcomeBox(false, 'Not probed', [], message));
    statusEl.textContent = `Not probed: ${message}`;
  };

  const run = async (target: string, module: string, push: boolean): Promise<void> => {
    inflight?.abort();
    const ac = new AbortController();
    inflight = ac;
    const q = query(target, module);
    if (push && location.search !== `?${q}`) history.pushState(null, '', `?${q}`);
    document.title = `${target} · Probe · VPN Exporter`;
    button.textContent = 'Probing…';
    resultEl.setAttribute('aria-busy', 'true');
    statusEl.textContent = `Probing ${target} with module ${module}…`;
    resultEl.replaceChildren(el('p', { class: 'pending' }, [statusEl.textContent]));
    try {
      const res = await fetch(`api/probe?${q}`, { signal: ac.signal, headers: { Accept: 'application/json' } });
      const body = (await res.json().catch(() => null)) as (Partial<ProbeResult> & { error?: string }) | null;
      if (ac !== inflight) return;
      if (!res.ok || !body || typeof body.success !== 'boolean') {
        showError(body?.error || `the exporter answered HTTP ${res.status}`);
      } else {
        const result = body as ProbeResult;
        resultEl.replaceChildren(...resultNodes(result));
        statusEl.textContent = resultStatus(result);
      }
    } catch (err) {
      if (ac.signal.aborted) return;
      showError(`the exporter did not answer (${err instanceof Error && err.message ? err.message : String(err)})`);
    } finally {
      if (ac === inflight) {
        inflight = null;
        button.textContent = 'Probe';
        resultEl.removeAttribute('aria-busy');
      }
    }
  };

  const fromLocation = (): void => {
    const p = new URLSearchParams(location.search);
    const target = p.get('target');
    const module = p.get('module');
    if (target !== null) targetInput.value = target;
    if (module !== null && [...moduleSelect.options].some((o) => o.value === module)) moduleSelect.value = module;
    if (target && module) {
      void run(target, module, false);
    } else {
      inflight?.abort();
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
    void run(target, moduleSelect.value, true);
  });
  window.addEventListener('popstate', fromLocation);
  fromLocation();
}

// Each returns at once on a page without its elements.
start();
startFleet();
