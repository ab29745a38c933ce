import type { PageProps } from '../routes';

export function BatchPage(_props: PageProps) {
  return <p class="muted">Not built yet.</p>;
}
