import type { PageProps } from '../routes';

export function DeviationPage(_props: PageProps) {
  return <p class="muted">Not built yet.</p>;
}
