/** Verification Service Class (PS3.4 Annex A): C-ECHO answers success. */
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import type { ServiceClassProvider } from '../dimse/service.js';

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

export function verificationService(): ServiceClassProvider {
  return {
    name: 'verification',
    sopClasses: [VERIFICATION_SOP_CLASS],
    handlers: { [CommandField.C_ECHO_RQ]: async () => ({ status: Status.Success }) },
  };
}
