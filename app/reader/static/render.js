// Building the page's pieces. Text from the API goes in through textContent; only the
// fields the API documents as sanitized (entry and post `html`, search `snippet`) are
// inserted as HTML.

/** A new element with a class and text content. */
export function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** A new element around `child`. */
function wrap(tag, child) {
  const node = el(tag);
  node.append(child);
  return node;
}

/** The hash link of a list view with these filters. */
export function listHref(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  const query = params.toString();
  return query ? `#/?${query}` : "#/";
}

/** A link to a post's page in the reader. */
export function postHref(slug) {
  return `#/post/${encodeURIComponent(slug)}`;
}

function slugify(text) {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "");
}

/** A domain's name for people: the heading spelling its slug comes from, else the first one. */
export function domainName(domain) {
  const own = domain.headings.find((heading) => slugify(heading) === domain.slug);
  return own || domain.headings[0] || domain.slug;
}

/** The domain tree as nested lists of links, the selected one marked as current. */
export function domainTree(domains, filters) {
  const list = el("ul", "tree");
  for (const domain of domains) {
    const item = el("li");
    const link = el("a", "domain");
    link.href = listHref({ ...filters, domain: domain.slug });
    if (filters.domain === domain.slug) link.setAttribute("aria-current", "page");
    link.append(
      el("span", "name", domainName(domain)),
      el("span", "count", String(domain.entry_count)),
    );
    const span = [domain.first_date, domain.last_date].filter(Boolean).join(" to ");
    link.title = `${domain.entry_count} entries${span ? `, ${span}` : ""}`;
    item.append(link);
    if (domain.children.length) item.append(domainTree(domain.children, filters));
    list.append(item);
  }
  return list;
}

const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/** A link chip: host and kind, pointing at the link when its scheme is a web or mail one. */
function linkChip(link) {
  let safe = false;
  try {
    safe = LINK_SCHEMES.has(new URL(link.url).protocol);
  } catch {
    safe = false;
  }
  const chip = el(safe ? "a" : "span", `chip kind-${slugify(link.link_kind)}`);
  if (safe) {
    chip.href = link.url;
    chip.rel = "noopener noreferrer";
    chip.target = "_blank";
  }
  chip.title = link.text ? `${link.text}: ${link.url}` : link.url;
  chip.append(el("span", "host", link.host || link.url), el("span", "kind", link.link_kind));
  return chip;
}

/** One entry (or search hit) as a list item: where it is from, its text, links and tags. */
export function entryItem(entry, filters, snippet = null) {
  const item = el("li", entry.parent_id ? "entry child" : "entry");
  const meta = el("p", "meta");
  const date = el("time", "", entry.date || "undated");
  if (entry.date) date.dateTime = entry.date;
  const post = el("a", "", entry.post.title);
  post.href = postHref(entry.post.slug);
  meta.append(date, " · ", post);
  if (entry.section) meta.append(" · ", el("span", "section", entry.section));
  const body = el("div", "body");
  body.innerHTML = snippet ?? entry.html; // sanitized by the API (see the module comment)
  item.append(meta, body);

  if (entry.links.length) {
    const links = el("ul", "chips");
    links.setAttribute("aria-label", "Links");
    for (const link of entry.links) links.append(wrap("li", linkChip(link)));
    item.append(links);
  }
  if (entry.tags.length) {
    const tags = el("ul", "chips tags");
    tags.setAttribute("aria-label", "Tags");
    for (const tag of entry.tags) {
      const link = el("a", "chip tag", `#${tag}`);
      link.href = listHref({ ...filters, tag });
      tags.append(wrap("li", link));
    }
    item.append(tags);
  }
  return item;
}

/** A readable error: its title, detail and each invalid parameter. */
export function problemBox(error) {
  const box = el("div", "problem");
  box.setAttribute("role", "alert");
  box.append(el("p", "title", error.title || "Something went wrong"));
  box.append(el("p", "", error.detail || error.message));
  if (error.errors && error.errors.length) {
    const list = el("ul");
    for (const { param, message } of error.errors) {
      const line = el("li");
      line.append(el("code", "", param), `: ${message}`);
      list.append(line);
    }
    box.append(list);
  }
  return box;
}
