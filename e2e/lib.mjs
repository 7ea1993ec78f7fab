// Shared by the specs: the running enshin (started by run.sh), Debian's chromium, screenshots.
import { readFileSync, mkdirSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through e2e/run.sh`);
  return value;
};

export const dataDir = need('E2E_DATA');
export const patientUrl = need('E2E_PATIENT_URL');
export const clinicUrl = need('E2E_CLINIC_URL');
export const artifacts = need('E2E_ARTIFACTS');
mkdirSync(artifacts, { recursive: true });

// Chromium trusts exactly this server key (SPKI pin), so TLS is checked for real and the
// `__Host-` cookies behave as in production, without touching the machine's trust store.
function serverSpki() {
  const pem = readFileSync(join(dataDir, 'pki', 'server.crt'), 'utf8');
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    args: [`--ignore-certificate-errors-spki-list=${serverSpki()}`],
  });
}

// Chromium as a clinic PC has it: the NSS database of $HOME holds the clinic's bundle (imported
// by pk12util) and trusts the service CA; a managed policy selects the certificate. No flags.
export async function launchWithNss() {
  const home = process.env.E2E_NSS_HOME;
  if (!home) throw new Error('E2E_NSS_HOME is not set: run.sh could not install the policy');
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    env: { ...process.env, HOME: home },
  });
}

// A phone: what most patients use.
export const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
  timezoneId: 'Asia/Tokyo',
};

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export function demo() {
  return JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
}

// A patient registers on the patient site and logs in; the page ends on /home.
export async function registerPatient(page, p) {
  await page.goto(`${patientUrl}/register`);
  await page.fill('#family_name', p.family);
  await page.fill('#given_name', p.given);
  await page.fill('#family_name_kana', p.familyKana);
  await page.fill('#given_name_kana', p.givenKana);
  await page.fill('#birth_date', p.birth);
  await page.fill('#phone', p.phone);
  await page.fill('#login_id', p.loginId);
  await page.fill('#password', p.password);
  await page.check('input[name="accept"]');
  await page.click('form[action="/register"] button');
  await page.waitForURL('**/login?done=registered');
  await page.fill('#login_id', p.loginId);
  await page.fill('#password', p.password);
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');
}
