// An operator logs in to the console with password and a TOTP code, sees the clinics and the
// access log, filtered by clinic, and asks the demo clinic for access to its patient data; the
// clinic's admin approves it on the "operator access" page (issue 6; AUTH-9, LOG-3, DATA-4).
// Then the operator generates and publishes the conformance disclosure, which a patient reads on
// a phone from the clinic's public page (issue 14; DISC-1, FUNC-9).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { launch, shot, demo, clinicUrl, patientUrl, phone } from './lib.mjs';

const consoleUrl = process.env.E2E_OPERATOR_URL;
const uri = process.env.E2E_OPERATOR_URI;

// RFC 6238 with SHA-1, 6 digits, 30 s: what the operator's authenticator app shows.
function totp(secretBase32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an operator logs in with a TOTP code and reads the access log', async () => {
  assert.ok(consoleUrl && uri, 'run through e2e/run.sh');
  const secret = new URL(uri).searchParams.get('secret');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/login`);
  await page.fill('#login_id', 'e2e.ops');
  await page.fill('#password', 'Hinoki-88-forest!');
  await page.fill('#totp', totp(secret));
  await shot(page, '30-operator-login');
  await page.click('form[action="/login"] button');
  await page.waitForURL('**/home');

  await page.click('nav a[href="/clinics"]');
  await page.waitForURL('**/clinics');
  assert.match(await page.textContent('table'), new RegExp(demo().clinic.name));
  await shot(page, '31-operator-clinics');

  await page.click(`a[href="/audit?clinic=${demo().clinic.id}"]`);
  await page.waitForURL('**/audit?clinic=*');
  const rows = await page.locator('table.log tbody tr').count();
  assert.ok(rows > 0, 'the demo clinic has entries from the clinic specs');
  await shot(page, '32-operator-audit');

  await page.click('nav a[href="/clinics"]');
  await page.click(`a[href="/clinics/${demo().clinic.id}"]`);
  await page.waitForURL(`**/clinics/${demo().clinic.id}`);
  assert.match(await page.textContent('h1'), new RegExp(demo().clinic.name));
  await shot(page, '33-operator-clinic');

  await page.click('nav a[href="/access"]');
  await page.waitForURL('**/access');
  await page.selectOption('#clinic', demo().clinic.id);
  await page.fill('#minutes', '30');
  await page.fill('#reason', '問い合わせ #E2E の調査');
  await page.click('button[value="request"]');
  await page.waitForURL('**/access?done=access_requested');
  assert.match(await page.textContent('table'), /承認待ち/);
  await shot(page, '34-operator-access-requested');

  // The clinic's admin is told on the start page and approves.
  const admin = demo().accounts.find((a) => a.role === 'admin');
  const desk = await browser.newContext({
    viewport: { width: 1280, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo',
    clientCertificates: [{ origin: clinicUrl, pfxPath: demo().certificate.path, passphrase: demo().certificate.password }],
  });
  const clinic = await desk.newPage();
  await clinic.goto(`${clinicUrl}/login`);
  await clinic.fill('#login_id', admin.login_id);
  await clinic.fill('#password', admin.password);
  await clinic.click('form[action="/login"] button');
  await clinic.waitForURL('**/home');
  assert.match(await clinic.textContent('main'), /運営者アクセスに確認が必要な項目があります/);
  await clinic.click('nav a[href="/operator-access"]');
  await clinic.waitForURL('**/operator-access');
  const row = clinic.locator('tr', { hasText: '問い合わせ #E2E の調査' });
  await shot(clinic, '35-clinic-operator-access');
  await row.locator('button', { hasText: '承認する' }).click();
  await clinic.waitForURL('**/operator-access?done=access_approved');
  assert.match(await clinic.locator('tr', { hasText: '問い合わせ #E2E の調査' }).textContent(), /アクセス中/);
  await shot(clinic, '36-clinic-operator-access-approved');
  await desk.close();

  await page.reload();
  assert.match(await page.textContent('table'), /アクセス中/);

  // The conformance disclosure, generated from the live deployment, then published.
  await page.click('nav a[href="/disclosure"]');
  await page.waitForURL('**/disclosure');
  const live = await page.textContent('main');
  assert.match(live, /サービス仕様適合開示書/);
  assert.match(live, /\(13\) 本書の改訂/);
  assert.match(live, /TLSv1\.3, TLSv1\.2/);
  await shot(page, '80-operator-disclosure');
  await page.click('form[action="/disclosure/publish"] button');
  await page.waitForURL('**/disclosure/revisions/1?done=disclosure_published');
  assert.match(await page.textContent('table'), /検証済み/);
  await shot(page, '81-operator-disclosure-published');
  await context.close();
});

test('a patient reads the clinic page and the published disclosure on a phone', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${patientUrl}/clinics/${demo().clinic.id}/about`);
  const about = await page.textContent('main');
  assert.match(about, new RegExp(demo().clinic.name));
  assert.match(about, /オンライン診療の適切な実施に関する指針/);
  await shot(page, '82-clinic-about-phone');
  await page.click('main a[href="/disclosure"]');
  await page.waitForURL('**/disclosure');
  assert.match(await page.textContent('main'), /版: 1/);
  await shot(page, '83-public-disclosure-phone');
  await page.click('a.lang');
  await page.waitForURL('**/disclosure?lang=en');
  assert.match(await page.textContent('h1'), /Service conformance disclosure/);
  await shot(page, '84-public-disclosure-phone-en');
  await context.close();
});
