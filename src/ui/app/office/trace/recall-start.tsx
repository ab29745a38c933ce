/**
 * "Start recall…" on the recall question page (issue 15): QA only, with a reason and the sign
 * dialog (re-authentication, meaning `approved`) → POST /recalls for the question's scope → the
 * recall's page. The server decides (role, signature, one open recall per scope, nothing found);
 * this only shows its answer: a refused secret stays in the dialog with its attempt count, an
 * already-open recall is named with a link to it, a recall that finds nothing says so.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, type SessionUser } from '../api';
import { QA, can } from '../roles';
import { linkClick, navigate } from '../router';
import { ErrorLine, SignDialog } from '../ui';

export interface RecallScopeQuery {
  supplierLot: string;
  supplier?: string | null;
}

export const recallHref = (numberOrId: string) => `/ui/office/recalls/${encodeURIComponent(numberOrId)}`;

/** Refusals that concern the recall itself (not the signature): shown beside the button, not in the dialog. */
const RECALL_REFUSALS = new Set(['LG_ERR_RECALL_ALREADY_OPEN', 'LG_ERR_RECALL_NOTHING_FOUND', 'LG_ERR_FORBIDDEN']);

export function StartRecall({ scope, user }: { scope: RecallScopeQuery; user: SessionUser }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const label = `supplier lot ${scope.supplierLot}${scope.supplier ? ` of ${scope.supplier}` : ''}`;
  if (!can(user, QA)) {
    return (
      <p class="muted" data-testid="recall-start-not-allowed">
        Starting a recall (hold what is still on site, list what left) is QA's, signed. You are signed in as {user.role}.
      </p>
    );
  }
  return (
    <div data-testid="recall-start">
      <button
        type="button"
        class="primary"
        data-testid="recall-start-open"
        onClick={() => {
          setRefusal(null);
          setOpen(true);
        }}
      >
        Start recall…
      </button>{' '}
      <span class="muted">Holds every affected lot, batch and pallet still on site and lists what left the site.</span>
      {refusal && (
        <div data-testid="recall-start-refused" data-code={refusal.code ?? ''}>
          <ErrorLine err={refusal} />
          {refusal.code === 'LG_ERR_RECALL_ALREADY_OPEN' && typeof refusal.details?.recall === 'string' && (
            <p>
              Open recall:{' '}
              <a href={recallHref(refusal.details.recall)} onClick={linkClick} data-testid="recall-open-link">
                {refusal.details.recall}
              </a>
            </p>
          )}
        </div>
      )}
      {open && (
        <SignDialog
          title="Start recall"
          meaning="approved"
          user={user}
          blocked={!reason.trim()}
          what={
            <p>
              Recall of <b>{label}</b>: every affected lot, batch and pallet still on site goes on hold; deliveries already shipped are listed.
            </p>
          }
          onClose={() => setOpen(false)}
          onSign={async (signature) => {
            const body = { supplierLot: scope.supplierLot, ...(scope.supplier ? { supplier: scope.supplier } : {}), reason: reason.trim(), signature };
            try {
              const r = await api<{ id: string; number: string }>('POST', '/recalls', body);
              setReason('');
              navigate(recallHref(r.number));
            } catch (e) {
              // A refused signature stays in the dialog (attempts, lock); a refused recall is shown on the page.
              if (e instanceof ApiError && e.code && RECALL_REFUSALS.has(e.code)) {
                setRefusal(e);
                return;
              }
              throw e;
            }
          }}
        >
          <label>
            Reason (required)
            <textarea name="reason" rows={3} value={reason} data-testid="recall-reason" onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          </label>
        </SignDialog>
      )}
    </div>
  );
}
