// Talking to the learnlog API: where it is, fetching JSON, and turning failures into words.

/** Where the API lives: `?api=` on the reader's own URL, else the reader's origin. */
export function apiBase() {
  const given = new URLSearchParams(location.search).get("api");
  try {
    return new URL(given || location.origin).href.replace(/\/$/, "");
  } catch {
    throw new ApiError("Bad API address", `?api=${given} is not a URL`, []);
  }
}

/** An answer the reader cannot use, described for a person. */
export class ApiError extends Error {
  constructor(title, detail, errors) {
    super(detail);
    this.title = title;
    this.detail = detail;
    this.errors = errors;
  }
}

/**
 * GET a URL (absolute, such as a `next` link, or a path under the API) and return its JSON.
 * Problem documents (RFC 9457) become an ApiError carrying their `detail` and `errors`.
 */
export async function getJson(pathOrUrl, signal) {
  const url = new URL(pathOrUrl, apiBase() + "/");
  let response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json, application/problem+json" },
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(
      "Cannot reach the API",
      `No answer from ${url.origin}. Is learnlog serving there, and does it allow ` +
        "this page's origin (LEARNLOG_CORS_ORIGINS)? Set the address with ?api=…",
      [],
    );
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok && body !== null) return body;
  if (body && typeof body.detail === "string") {
    throw new ApiError(body.title || `Error ${response.status}`, body.detail, body.errors || []);
  }
  throw new ApiError(
    `Error ${response.status}`,
    `${url.pathname} answered ${response.status} ${response.statusText} without JSON.`,
    [],
  );
}
