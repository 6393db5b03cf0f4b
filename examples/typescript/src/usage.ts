// A typed learnlog client: every path, parameter and answer below is checked against
// src/api.d.ts, which `npx openapi-typescript openapi.json -o src/api.d.ts` generates
// from the API's own OpenAPI document (`learnlog openapi --output openapi.json`).
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./api";

export type Entry = components["schemas"]["EntryOut"];
export type PostDetail = components["schemas"]["PostDetail"];
export type SearchHit = components["schemas"]["SearchHit"];
export type Domain = components["schemas"]["DomainOut"];

export type Learnlog = Client<paths>;

/** A client for the learnlog API at `baseUrl`, such as "http://127.0.0.1:8000". */
export function learnlog(baseUrl: string): Learnlog {
  return createClient<paths>({ baseUrl });
}

/** The cursor inside a page's `next` URL, or null on the last page. */
function cursorOf(next: string | null): string | null {
  return next === null ? null : new URL(next).searchParams.get("cursor");
}

/** Problem documents (RFC 9457) become errors that say what went wrong. */
function failure(what: string, problem: { title: string; detail: string } | undefined): Error {
  return new Error(problem ? `${what}: ${problem.title}: ${problem.detail}` : `${what}: no answer`);
}

/** Every GenAI entry since `since` that links a paper, following `next` page by page. */
export async function genaiPapersSince(api: Learnlog, since: string): Promise<Entry[]> {
  const found: Entry[] = [];
  let cursor: string | null = null;
  do {
    const { data, error } = await api.GET("/entries", {
      params: {
        query: {
          domain: ["genai"],
          link_kind: ["paper"],
          from: since,
          sort: "-date",
          limit: 50,
          ...(cursor === null ? {} : { cursor }),
        },
      },
    });
    if (data === undefined) throw failure("/entries", error);
    found.push(...data.items);
    cursor = cursorOf(data.next);
  } while (cursor !== null);
  return found;
}

/** One line per entry: date, post title, section, text and the papers it cites. */
export function describe(entry: Entry): string {
  const papers = entry.links.filter((link) => link.link_kind === "paper").map((link) => link.url);
  const where = `${entry.date ?? "undated"} ${entry.post.title} / ${entry.section}`;
  return `${where}: ${entry.text} [${papers.join(", ")}] (${entry.source.path}:${entry.source.line})`;
}

/** A whole post; its `html` is sanitized and safe for innerHTML. */
export async function post(api: Learnlog, slug: string): Promise<PostDetail> {
  const { data, error } = await api.GET("/posts/{slug}", { params: { path: { slug } } });
  if (data === undefined) throw failure(`/posts/${slug}`, error);
  return data;
}

/** The table of contents of a post: its section headings, indented by depth. */
export function outline(detail: PostDetail): string[] {
  const lines: string[] = [];
  const walk = (sections: PostDetail["sections"], depth: number): void => {
    for (const section of sections) {
      lines.push(`${"  ".repeat(depth)}${section.heading || "(preamble)"}: ${section.entries.length}`);
      walk(section.sections, depth + 1);
    }
  };
  walk(detail.sections, 0);
  return lines;
}

/**
 * One page of top-level domains, most posts first, each with its sub-domains; pass the
 * cursor it returns for the next page (null: none). Without `minPosts` the API keeps the
 * domains several posts share, and those the aliases file names.
 */
export async function domainPage(
  api: Learnlog,
  cursor: string | null,
  minPosts?: number,
): Promise<{ domains: Domain[]; cursor: string | null }> {
  const { data, error } = await api.GET("/domains", {
    params: {
      query: {
        limit: 20,
        ...(minPosts === undefined ? {} : { min_posts: minPosts }),
        ...(cursor === null ? {} : { cursor }),
      },
    },
  });
  if (data === undefined) throw failure("/domains", error);
  return { domains: data.items, cursor: cursorOf(data.next) };
}

/** A domain and its sub-domains as indented lines, with their posts and entries. */
export function domainLines(domain: Domain, depth = 0): string[] {
  const counts = `${domain.post_count} posts, ${domain.entry_count} entries`;
  const line = `${"  ".repeat(depth)}${domain.slug}: ${counts}`;
  return [line, ...domain.children.flatMap((child) => domainLines(child, depth + 1))];
}

/** Full-text search over entries in some domains; snippets carry `<mark>` around matches. */
export async function search(api: Learnlog, q: string, domains: string[]): Promise<SearchHit[]> {
  const { data, error } = await api.GET("/search", {
    params: { query: { q, type: "entry", domain: domains, limit: 20 } },
  });
  if (data === undefined) throw failure("/search", error);
  return data.items;
}

/** Fill a page: the search results, then the post of the best hit rendered below them. */
export async function render(api: Learnlog, root: HTMLElement, q: string): Promise<void> {
  const hits = await search(api, q, ["machine-learning"]);
  const list = document.createElement("ol");
  for (const hit of hits) {
    const item = document.createElement("li");
    item.innerHTML = hit.snippet;
    item.title = hit.entry ? describe(hit.entry) : "";
    list.append(item);
  }
  root.replaceChildren(list);
  const best = hits[0]?.entry;
  if (best) {
    const article = document.createElement("article");
    const detail = await post(api, best.post.slug);
    article.innerHTML = detail.html;
    article.dataset["outline"] = outline(detail).join("\n");
    root.append(article);
  }
}

export type PostSummary = components["schemas"]["PostSummary"];

/**
 * Posts rated at least `min` (a field declared in learnlog.toml), best first, each as
 * "title (rating, stage)": `data` is typed from the folder's schema.
 */
export async function wellRated(api: Learnlog, min: number): Promise<string[]> {
  const { data, error } = await api.GET("/posts", {
    params: { query: { "data.rating.gte": min, sort: "-data.rating", limit: 50 } },
  });
  if (data === undefined) throw failure("/posts", error);
  return data.items.map((item: PostSummary) => {
    const rating: number | undefined = item.data.rating;
    const stage: "open" | "done" | undefined = item.data.stage;
    return `${item.title} (${rating ?? "unrated"}, ${stage ?? "no stage"})`;
  });
}
