// What a reader does not see. The server refuses these actions to a reader anyway (403);
// hiding them keeps the pages honest about what the user can do. One list, here, rather
// than a role check in every page: each selector names a control of another page.
export type Role = 'admin' | 'reader';

const ADMIN_ONLY = [
  // Configuration: change, remove, echo AEs
  '#ae-form',
  '#local-aes button.edit',
  '#peer-aes button.edit',
  'button.remove',
  'button.echo',
  // Studies: upload (STOW-RS), export, send, delete; retrieve from a remote AE
  '.card.upload',
  '#study-detail .group:has(#download-study)',
  '#study-detail .group:has(#send-study)',
  '#delete-study',
  '.delete-instance',
  '.send-series',
  '.delete-series',
  '#series-list a[href$="archive.zip"]',
  'button.retrieve',
  // Router rules and queue: every change
  '#rule-new',
  '.rule-up',
  '.rule-down',
  '.rule-save',
  '.rule-delete',
  '.change-add',
  '.change-remove',
  '#dry-run',
  '.queue-retry',
  '.queue-purge-dead',
  '.queue-purge-all',
  '.entry-retry',
  '.entry-purge',
  '#unrouted-retry-all',
  '#unrouted-purge-all',
  '.unrouted-retry',
  '.unrouted-purge',
  // Viewer: store measurements (STOW-RS), retrieve into the workstation, send the study
  '#save-measurements',
  '.qr-retrieve',
  '.qr-send',
  // Workflow pages: schedule, edit, cancel steps; retry a commitment report
  '.admin-only',
  // Patients: update and merge
  '#patient-update',
  '#patient-merge',
  '.patient-use',
];

/** Marks the page with the user's role; readers do not see the admin-only controls. */
export function applyRole(role: Role): void {
  document.body.dataset.role = role;
  if (document.getElementById('role-style')) return;
  const style = document.createElement('style');
  style.id = 'role-style';
  style.textContent = `body[data-role="reader"] :is(${ADMIN_ONLY.join(', ')}) { display: none !important; }`;
  document.head.append(style);
}
