import type { PageProps } from '../routes';

export function ReviewPage(_props: PageProps) {
  return <p class="muted">Not built yet.</p>;
}
