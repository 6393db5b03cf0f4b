// Must NOT type-check: `data.rating` is declared an integer in ../learnlog.toml, so the
// generated types make it a number. .ci/run fails when tsc accepts this file.
import type { components } from "../src/api";

type PostSummary = components["schemas"]["PostSummary"];

export function ratingText(post: PostSummary): string {
  const rating: string | undefined = post.data.rating;
  return rating ?? "";
}
