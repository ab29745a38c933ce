import type { PageProps } from '../routes';

export function QcPage(_props: PageProps) {
  return <p class="muted">Not built yet.</p>;
}
