import type { PageProps } from '../routes';

export function DeviationsPage(_props: PageProps) {
  return <p class="muted">Not built yet.</p>;
}
