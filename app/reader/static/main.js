// The reader: state lives in the URL hash (#/?domain=genai&q=... or #/post/<slug>), so
// every view can be linked to and Back and Forward work; pages follow the API's `next`.
import { apiBase, getJson } from "./api.js";
import {
  domainName,
  domainTree,
  el,
  entryItem,
  listHref,
  postHref,
  problemBox,
} from "./render.js";

const FILTERS = ["domain", "tag", "from", "to", "q"];
// Filters on a post's declared fields (`data.rating=4`), offered from a post's page.
const isFieldFilter = (name) => name.startsWith("data.");
const fieldFilters = (filters) => Object.entries(filters).filter(([name]) => isFieldFilter(name));
const byId = (id) => document.getElementById(id);

let domains = []; // the top-level domains of the pages of /domains loaded so far
let domainsNext = null; // the next page of /domains, if any
let loading = null; // AbortController of the view being loaded
// The list last shown: coming Back from a post shows the same pages without fetching again.
const EMPTY_LIST = {
  query: null, // the API request the pages answer
  hash: "#/", // the reader's address for them
  filters: {},
  hits: [],
  next: null,
  total: null,
  scroll: 0,
};
let shown = { ...EMPTY_LIST, hits: [] };

/** The view and filters the hash names. */
function readHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  if (hash.startsWith("post/")) return { view: "post", slug: decodeURIComponent(hash.slice(5)) };
  const params = new URLSearchParams(hash.startsWith("?") ? hash.slice(1) : "");
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name)?.trim() || ""]));
  for (const [name, value] of params) {
    if (isFieldFilter(name) && value.trim()) filters[name] = value.trim();
  }
  return { view: "list", filters };
}

/** The API request for a list: ranked /search when there are words to look for, else /entries. */
function apiQuery(filters) {
  const params = new URLSearchParams();
  for (const name of ["domain", "tag", "from", "to"]) {
    if (filters[name]) params.set(name, filters[name]);
  }
  const fields = fieldFilters(filters);
  for (const [name, value] of fields) params.set(name, value);
  if (filters.q) {
    params.set("q", filters.q);
    // /search ranks by relevance but takes no field filters; /entries takes both.
    if (!fields.length) return `search?${params}`;
  }
  params.set("count", "true");
  return `entries?${params}`;
}

function findDomain(slug, tree = domains) {
  for (const domain of tree) {
    if (domain.slug === slug) return domain;
    const inner = findDomain(slug, domain.children);
    if (inner) return inner;
  }
  return null;
}

function describe(filters) {
  let text = filters.q ? `Search results for “${filters.q}”` : "Entries";
  if (filters.domain) {
    const domain = findDomain(filters.domain);
    text += ` in ${domain ? domainName(domain) : filters.domain}`;
  }
  if (filters.tag) text += ` tagged #${filters.tag}`;
  if (filters.from) text += ` from ${filters.from}`;
  if (filters.to) text += ` until ${filters.to}`;
  for (const [name, value] of fieldFilters(filters)) text += ` with ${name.slice(5)} ${value}`;
  return text;
}

function setStatus(id, content) {
  byId(id).replaceChildren(...(content ? [content] : []));
}

/** The domain tree; `filters` is null on a post's page, where no domain is the current one. */
function renderDomains(filters) {
  const all = el("a", "domain", "All domains");
  all.href = listHref({ ...filters, domain: "" });
  if (filters && !filters.domain) all.setAttribute("aria-current", "page");
  byId("domain-tree").replaceChildren(all, domainTree(domains, filters || {}));
}

function showView(name) {
  byId("list-view").hidden = name !== "list";
  byId("post-view").hidden = name !== "post";
}

/** Add one page of /entries or /search items to the list and say how many are shown. */
function addPage(page) {
  shown.next = page.next;
  const list = byId("entries");
  for (const hit of page.items) {
    shown.hits.push(hit);
    list.append(hitItem(hit));
  }
  updateCount();
}

function hitItem(hit) {
  // /search items wrap the entry with a snippet; /entries items are entries.
  if (hit.entry) return entryItem(hit.entry, shown.filters, hit.snippet);
  return entryItem(hit, shown.filters);
}

function updateCount() {
  const count = shown.hits.length;
  const more = byId("more");
  more.hidden = !shown.next;
  more.disabled = false;
  more.textContent = "More";
  if (count === 0) {
    const empty = el("div", "empty");
    empty.append(el("p", "title", "Nothing found."));
    empty.append(el("p", "", "No entry matches these filters. Try fewer filters or other words."));
    setStatus("list-status", empty);
    return;
  }
  const noun = (n) => (n === 1 ? "entry" : "entries");
  let text = `Showing ${count} ${noun(count)}`;
  if (typeof shown.total === "number") {
    text = `Showing ${count} of ${shown.total} ${noun(shown.total)}`;
  }
  if (!shown.next) text += shown.filters.q ? " (all hits)" : " (all of them)";
  setStatus("list-status", el("p", "", text));
}

async function showList(filters, signal) {
  showView("list");
  document.title = `${describe(filters)} · learnlog reader`;
  byId("results-heading").textContent = describe(filters);
  for (const name of FILTERS) byId(`f-${name}`).value = filters[name];
  renderDomains(filters);
  const query = apiQuery(filters);
  const list = byId("entries");
  if (shown.query === query) {
    list.replaceChildren(...shown.hits.map(hitItem));
    updateCount();
    window.scrollTo(0, shown.scroll);
    return;
  }
  shown = { ...EMPTY_LIST, hash: location.hash || "#/", filters, hits: [] };
  list.replaceChildren();
  byId("more").hidden = true;
  setStatus("list-status", el("p", "loading", "Loading entries…"));
  list.setAttribute("aria-busy", "true");
  try {
    const page = await getJson(query, signal);
    shown.query = query;
    shown.total = page.total;
    addPage(page);
  } catch (error) {
    if (error.name !== "AbortError") setStatus("list-status", problemBox(error));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

async function loadMore() {
  const more = byId("more");
  const query = shown.query;
  more.disabled = true;
  more.textContent = "Loading…";
  try {
    const page = await getJson(shown.next);
    if (shown.query === query) addPage(page);
  } catch (error) {
    more.disabled = false;
    more.textContent = "More";
    setStatus("list-status", problemBox(error));
  }
}

async function showPost(slug, signal) {
  showView("post");
  renderDomains(null);
  window.scrollTo(0, 0);
  byId("post-back").href = shown.hash;
  for (const id of ["post-title", "post-meta", "post-excerpt", "post-body"]) {
    byId(id).replaceChildren();
  }
  setStatus("post-status", el("p", "loading", "Loading post…"));
  try {
    const post = await getJson(`posts/${encodeURIComponent(slug)}`, signal);
    setStatus("post-status", null);
    document.title = `${post.title} · learnlog reader`;
    byId("post-title").textContent = post.title;
    const meta = byId("post-meta");
    const date = el("time", "", post.date || "undated");
    if (post.date) date.dateTime = post.date;
    meta.append(date, ` · ${post.entry_count} entries`);
    for (const category of post.categories) meta.append(" · ", el("span", "category", category));
    for (const tag of post.tags) {
      const link = el("a", "chip tag", `#${tag}`);
      link.href = listHref({ tag });
      meta.append(" ", link);
    }
    // Declared fields (learnlog.toml), each value a link to the entries of posts sharing it.
    for (const [name, value] of Object.entries(post.data || {})) {
      for (const item of Array.isArray(value) ? value : [value]) {
        const link = el("a", "chip field", `${name}: ${item}`);
        link.href = listHref({ [`data.${name}`]: String(item) });
        link.title = `Entries of posts whose ${name} is ${item}`;
        meta.append(" ", link);
      }
    }
    byId("post-excerpt").textContent = post.excerpt || "";
    byId("post-body").innerHTML = post.html; // documented by the API as sanitized HTML
    followInternalLinks(byId("post-body"));
    byId("post-title").focus();
    await showBacklinks(slug, signal);
  } catch (error) {
    if (error.name !== "AbortError") setStatus("post-status", problemBox(error));
  }
}

/** Internal links (`/posts/<slug>#part` in the API's HTML) open the note in the reader. */
function followInternalLinks(body) {
  for (const link of body.querySelectorAll("a.internal-link[href]")) {
    const found = link.getAttribute("href").match(/\/posts\/([^/#?]+)/);
    if (found) link.href = postHref(decodeURIComponent(found[1]));
  }
}

/** "Linked from": the entries citing this post, each with a link to its own post. */
async function showBacklinks(slug, signal) {
  const page = await getJson(`posts/${encodeURIComponent(slug)}/backlinks?limit=50`, signal);
  if (!page.items.length) return;
  const list = el("ul", "backlinks");
  for (const entry of page.items) {
    const item = el("li");
    const link = el("a", "", entry.post.title);
    link.href = postHref(entry.post.slug);
    item.append(link, ": ", entry.text);
    list.append(item);
  }
  const section = el("section", "backlinks");
  section.append(el("h2", "", "Linked from"), list);
  byId("post-body").append(section);
}

function route() {
  // Other fragments (the skip link's #results-heading) are places on the page, not views.
  if (location.hash && !location.hash.startsWith("#/")) return;
  loading?.abort();
  loading = new AbortController();
  const state = readHash();
  if (state.view === "post") {
    if (!byId("list-view").hidden) shown.scroll = window.scrollY;
    showPost(state.slug, loading.signal);
  } else {
    showList(state.filters, loading.signal);
  }
}

/** Add a page of /domains to the sidebar; "More domains" follows its `next`. */
function addDomains(page) {
  domains = domains.concat(page.items);
  domainsNext = page.next;
  const more = byId("domains-more");
  more.hidden = !domainsNext;
  more.disabled = false;
  more.textContent = "More domains";
  more.title = `${domains.length} of ${page.total} shown`;
  setStatus("domains-status", domains.length ? null : el("p", "", "No domains yet."));
  const state = readHash();
  renderDomains(state.view === "list" ? state.filters : null);
  if (state.view === "list") byId("results-heading").textContent = describe(state.filters);
}

async function loadMoreDomains() {
  const more = byId("domains-more");
  more.disabled = true;
  more.textContent = "Loading…";
  try {
    addDomains(await getJson(domainsNext));
  } catch (error) {
    more.disabled = false;
    more.textContent = "More domains";
    setStatus("domains-status", problemBox(error));
  }
}

async function loadVocabularies() {
  setStatus("domains-status", el("p", "loading", "Loading domains…"));
  try {
    // The API's default keeps the domains several posts share (a blog's one-off
    // headings are left out); pages hold top-level domains, each with its subtree.
    addDomains(await getJson("domains"));
  } catch (error) {
    setStatus("domains-status", problemBox(error));
  }
  try {
    const options = (await getJson("tags")).items.map(({ name }) => {
      const option = el("option");
      option.value = name;
      return option;
    });
    byId("tag-options").replaceChildren(...options);
  } catch {
    // Tag suggestions are a convenience; the list shows the API's error if it is down.
  }
}

function submitFilters(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const current = readHash();
  // The form holds the shared filters; field filters chosen on a post's page stay.
  const kept = current.view === "list" ? Object.fromEntries(fieldFilters(current.filters)) : {};
  const chosen = Object.fromEntries(FILTERS.map((name) => [name, form.get(name).trim()]));
  const href = listHref({ ...chosen, ...kept });
  if (location.hash === href) {
    shown.query = null; // the same filters again: fetch afresh
    route();
  } else {
    location.hash = href;
  }
}

function start() {
  try {
    byId("api-base").textContent = apiBase();
  } catch (error) {
    setStatus("list-status", problemBox(error));
    return;
  }
  if (window.matchMedia("(max-width: 760px)").matches) byId("domains-box").open = false;
  byId("filters").addEventListener("submit", submitFilters);
  byId("more").addEventListener("click", loadMore);
  byId("domains-more").addEventListener("click", loadMoreDomains);
  window.addEventListener("hashchange", route);
  route();
  loadVocabularies();
}

start();
