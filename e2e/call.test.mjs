// FUNC-5 (issue 9): a video consultation between two Chromium contexts with fake camera and
// microphone. The doctor, on a clinic PC with the clinic certificate, opens the room from the
// worklist; the patient, on a phone without one, waits until admitted. getStats() on both sides
// shows video frames and audio arriving, once peer-to-peer and once relay-only through a coturn
// started here on loopback; the patient reloads and the call comes back; the doctor ends it.
// FUNC-6, FUNC-7 (issue 12): no call before the patient agrees to the consultation plan, which
// the patient reads and agrees to on the phone; after the call the doctor records the identity
// check, finalises the note with the call's times, amends it with a reason, and prints the record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  launch, shot, clinicUrl, patientUrl, phone, clinicDesk, clinicLogIn, inviteNewPatient, registerAndLink,
  offerOnlineMenu,
} from './lib.mjs';

const turnPort = process.env.E2E_TURN_PORT;
const turnSecretFile = process.env.E2E_TURN_SECRET_FILE;

let browser;
let turn;
before(async () => {
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});
after(async () => {
  await browser?.close();
  turn?.kill();
});

const desk = clinicDesk();
const logIn = clinicLogIn;

// Keeps every RTCPeerConnection the page makes, for getStats(); with `relay`, also forces
// iceTransportPolicy 'relay' as a network that blocks direct UDP would.
function watchPeers(relay) {
  return `(() => {
    const Native = window.RTCPeerConnection;
    window.__peers = [];
    window.RTCPeerConnection = function (config = {}) {
      const pc = new Native(${relay ? "{ ...config, iceTransportPolicy: 'relay' }" : 'config'});
      window.__peers.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Native.prototype;
  })()`;
}

// What the newest connection has received, and the kind of the local candidate in use.
async function received(page) {
  return page.evaluate(async () => {
    const pc = window.__peers.at(-1);
    if (!pc) return { frames: 0, audio: 0, candidate: null, port: 0 };
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    let frames = 0;
    let audio = 0;
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.totalSamplesReceived || 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
    });
    const local = pair && byId.get(pair.localCandidateId);
    return { frames, audio, candidate: local ? local.candidateType : null, port: local ? local.port : 0 };
  });
}

// Waits until both sides receive video frames and audio; returns what each saw.
async function flowing(pages) {
  const seen = [];
  for (const page of pages) {
    let last;
    for (let i = 0; i < 100; i++) {
      last = await received(page);
      if (last.frames > 5 && last.audio > 1000) break;
      await page.waitForTimeout(200);
    }
    seen.push(last);
  }
  return seen;
}

// Both remote videos show a picture.
async function bothPlaying(doctor, patient) {
  const playing = () => {
    const v = document.getElementById('remote');
    return v && v.videoWidth > 0 && v.currentTime > 0;
  };
  await Promise.all([
    doctor.waitForFunction(playing, null, { timeout: 30000 }),
    patient.waitForFunction(playing, null, { timeout: 30000 }),
  ]);
}


let visit;
let patientLogin;

test('the clinic offers a video visit and a patient books the next free one', async () => {
  const admin = await browser.newContext(desk);
  const setup = await logIn(admin, 'admin');
  await setup.goto(`${clinicUrl}/schedule`);
  await setup.fill('#contact_phone', '03-1234-5678');
  await setup.click('form[action="/schedule/settings"] button');
  await setup.waitForURL('**/schedule?done=saved');
  // Hours around the clock, so the next free slot is within the 30 minutes before a visit
  // when the waiting room opens, whenever this runs.
  await offerOnlineMenu(setup, 'ビデオ再診', '00:00', '23:59');
  await admin.close();

  const clinic = await browser.newContext(desk);
  const staff = await logIn(clinic, 'staff');
  const code = await inviteNewPatient(staff, {
    family: '小林', given: '真央', familyKana: 'コバヤシ', givenKana: 'マオ', birth: '1944-01-15',
  });

  const mobile = await browser.newContext(phone);
  const patient = await mobile.newPage();
  patientLogin = { loginId: `e2e-call-${Date.now()}`, password: 'Yuki-63-snow!' };
  await registerAndLink(patient, {
    family: '小林', given: '真央', familyKana: 'こばやし', givenKana: 'まお', birth: '1944-01-15',
    phone: '090-6666-7777', ...patientLogin,
  }, code);
  await patient.goto(`${patientUrl}/appointments`);
  await patient.click('a[href$="/book"]');
  await patient.click('text=ビデオ再診');
  await patient.waitForSelector('button.slot');
  const first = patient.locator('form:has(button.slot)').first();
  const start = await first.locator('input[name="start"]').getAttribute('value');
  await first.locator('button').click();
  await patient.waitForURL('**/appointments?done=requested');
  assert.equal(await patient.locator('a[href^="/calls/"]').count(), 0, 'no room before the clinic confirms');

  // Reception confirms the request; the visit then has its room.
  await staff.goto(`${clinicUrl}/worklist?date=${start.slice(0, 10)}`);
  await staff.locator('tr', { hasText: '小林 真央' }).locator('form:has(input[value="confirmed"]) button').click();
  await staff.waitForURL(/\/worklist\?.*done=state_changed/);
  assert.equal(await staff.locator('a[href^="/calls/"]').count(), 0, 'only the doctor gets the room link');
  await clinic.close();
  await patient.reload();
  const link = patient.locator('a[href^="/calls/"]').first();
  visit = { id: (await link.getAttribute('href')).split('/').pop(), day: start.slice(0, 10) };
  await shot(patient, '70-patient-video-visit');

  // No call before the patient agrees to the clinic's online consultation plan.
  await patient.goto(`${patientUrl}/calls/${visit.id}`);
  assert.match(await patient.textContent('main'), /診療計画/);
  await shot(patient, '70a-patient-call-needs-plan');
  const office = await browser.newContext(desk);
  const planner = await logIn(office, 'doctor');
  await planner.goto(`${clinicUrl}/patients`);
  await planner.locator('tr', { hasText: '小林 真央' }).locator('a[href$="/plan"]').click();
  const items = {
    conditions_and_treatment: '高血圧症。降圧薬の継続処方',
    combination: '3か月に1回は対面で診察と採血',
    schedule: '月1回、平日の午前',
    method_and_devices: 'スマートフォンのビデオ通話',
    switch_to_in_person: '家庭血圧が180/110以上のとき、または通信障害が続くとき',
    patient_cooperation: '家庭血圧を毎朝記録してください',
  };
  for (const [name, value] of Object.entries(items)) await planner.fill(`textarea[name="${name}"]`, value);
  await planner.click('#offer');
  assert.match(await planner.textContent('.error'), /未入力の項目/, 'a plan with blank items is not offered');
  assert.equal(await planner.inputValue('textarea[name="schedule"]'), '月1回、平日の午前', 'what was typed stays');
  const rest = {
    emergency_policy: '急変時は119番に通報し、当院へ連絡してください',
    emergency_institution: '市立中央病院',
    emergency_phone: '03-9876-5432',
    doctors: '主治医(デモ 医師)がすべての診察を行います',
    security: '端末とパスワードの管理は患者さん、通信の暗号化は運用事業者が担います',
  };
  for (const [name, value] of Object.entries(rest)) await planner.fill(`textarea[name="${name}"]`, value);
  await planner.click('#offer');
  await planner.waitForURL('**/plan?done=record_saved');
  assert.match(await planner.textContent('#agreement-state'), /未同意/);
  await shot(planner, '70b-doctor-offers-plan');
  await office.close();
  await patient.goto(`${patientUrl}/plans`);
  await patient.waitForSelector('button.agree');
  assert.match(await patient.textContent('main'), /市立中央病院/);
  await shot(patient, '70c-patient-reads-plan');
  await patient.click('button.agree');
  await patient.waitForURL('**/plans?done=record_saved');
  assert.match(await patient.textContent('main'), /同意済み/);
  assert.equal(await patient.locator('button.agree').count(), 0);
  await shot(patient, '70d-patient-agreed-plan');
  await patient.goto(`${patientUrl}/appointments`);

  // The device test: camera, microphone level and a test sound, on the phone only.
  await patient.click('a[href="/call-test"]');
  await patient.click('#test-start');
  await patient.waitForSelector('#call-test[data-result="ok"]');
  assert.match(await patient.textContent('#test-result'), /使えます/);
  await shot(patient, '71-patient-device-test');
  await mobile.close();
});

// One consultation: the doctor opens the room from the worklist, the patient enters the waiting
// room, the doctor checks who it is and admits them. Returns the two pages and the time from
// "admit" to both sides showing the other's video.
async function consult(relay, prefix) {
  const clinic = await browser.newContext(desk);
  await clinic.addInitScript(watchPeers(relay));
  const doctor = await logIn(clinic, 'doctor');
  await doctor.goto(`${clinicUrl}/worklist?date=${visit.day}`);
  await doctor.click(`a[href="/calls/${visit.id}"]`);
  await doctor.waitForSelector('#call[data-state="sAlone"]');
  assert.match(await doctor.textContent('#who-name'), /小林 真央/);
  assert.match(await doctor.textContent('.call-who'), /1944-01-15/);

  const mobile = await browser.newContext(phone);
  await mobile.addInitScript(watchPeers(relay));
  const patient = await mobile.newPage();
  await patient.goto(`${patientUrl}/login`);
  await patient.fill('#login_id', patientLogin.loginId);
  await patient.fill('#password', patientLogin.password);
  await patient.click('form[action="/login"] button');
  await patient.waitForURL('**/home');
  await patient.goto(`${patientUrl}/calls/${visit.id}`);
  await patient.waitForSelector('#call[data-state="sWaiting"]');
  assert.match(await patient.textContent('#who-name'), /デモ 医師/);
  assert.equal(await patient.textContent('#clinic-phone'), '03-1234-5678');
  await shot(patient, `${prefix}-patient-waiting`);

  await doctor.waitForSelector('#admit:not([hidden])');
  await shot(doctor, `${prefix}-doctor-patient-waiting`);
  const admitted = Date.now();
  await doctor.click('#admit');
  await bothPlaying(doctor, patient);
  const ms = Date.now() - admitted;
  return { clinic, mobile, doctor, patient, ms };
}

test('doctor and patient see and hear each other peer-to-peer; a reload reconnects; the doctor ends it', async () => {
  const { clinic, mobile, doctor, patient, ms } = await consult(false, '72');
  console.log(`direct: admit → video on both sides ${ms} ms`);
  const [d, p] = await flowing([doctor, patient]);
  assert.ok(d.frames > 5 && d.audio > 1000, `doctor receives ${JSON.stringify(d)}`);
  assert.ok(p.frames > 5 && p.audio > 1000, `patient receives ${JSON.stringify(p)}`);
  assert.equal(d.candidate, 'host', 'direct, not relayed');
  await doctor.waitForSelector('#call[data-state="sLive"]');
  await patient.waitForSelector('#call[data-state="sLive"]');
  await shot(doctor, '73-doctor-in-call');
  await shot(patient, '74-patient-in-call');

  // The patient's page reloads (a dropped phone connection looks the same): already admitted,
  // the patient goes straight back in and the video returns on both sides.
  const reloaded = Date.now();
  await patient.reload();
  await patient.waitForSelector('#call[data-state="sLive"]', { timeout: 30000 });
  await bothPlaying(doctor, patient);
  console.log(`reload: back in the call on both sides ${Date.now() - reloaded} ms`);
  const [again] = await flowing([patient]);
  assert.ok(again.frames > 5, `patient receives after the reload ${JSON.stringify(again)}`);

  // Mute and camera off are the patient's own; the doctor ends the consultation for both.
  await patient.click('#mute');
  assert.equal(await patient.getAttribute('#mute', 'aria-pressed'), 'true');
  doctor.once('dialog', (dialog) => dialog.accept());
  await doctor.click('#end');
  await patient.waitForSelector('#call[data-state="sEnded"]');
  await doctor.waitForSelector('#call[data-state="sEnded"]');
  assert.match(await patient.textContent('#call-status'), /診療は終了しました/);
  await shot(patient, '75-patient-ended');
  await clinic.close();
  await mobile.close();
});

test('the call also works relay-only through coturn', async () => {
  assert.ok(turnPort && turnSecretFile, 'run.sh sets E2E_TURN_PORT and E2E_TURN_SECRET_FILE');
  const secret = readFileSync(turnSecretFile, 'utf8').trim();
  const db = join(mkdtempSync(join(tmpdir(), 'enshin-turn-')), 'turndb');
  turn = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', `--listening-port=${turnPort}`, '--relay-ip=127.0.0.1',
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=enshin.test', `--db=${db}`,
    '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--min-port=49160', '--max-port=49200',
    '--log-file=stdout', '--simple-log',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  turn.stdout.on('data', (chunk) => { log += chunk; });
  turn.stderr.on('data', (chunk) => { log += chunk; });
  for (let i = 0; i < 50 && !/listener opened|Total General servers/i.test(log); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const { clinic, mobile, doctor, patient, ms } = await consult(true, '76');
  console.log(`relay: admit → video on both sides ${ms} ms`);
  const [d, p] = await flowing([doctor, patient]);
  assert.ok(d.frames > 5 && d.audio > 1000, `doctor receives ${JSON.stringify(d)}`);
  assert.ok(p.frames > 5 && p.audio > 1000, `patient receives ${JSON.stringify(p)}`);
  assert.equal(d.candidate, 'relay', 'through coturn');
  assert.equal(p.candidate, 'relay', 'through coturn');
  // Relay candidates come from coturn's relay port range, so both sides really go through it.
  for (const side of [d, p]) assert.ok(side.port >= 49160 && side.port <= 49200, `relayed by coturn ${JSON.stringify(side)}`);
  await shot(doctor, '77-doctor-relay-call');
  await shot(patient, '78-patient-relay-call');
  await clinic.close();
  await mobile.close();
});

test('after the call the doctor records the identity check, finalises the note with the call times and amends it', async () => {
  const office = await browser.newContext(desk);
  const doctor = await logIn(office, 'doctor');
  await doctor.goto(`${clinicUrl}/worklist?date=${visit.day}`);
  await doctor.click(`a[href="/visits/${visit.id}/note"]`);
  await doctor.waitForSelector('#draft');
  await doctor.fill('#draft textarea[name="subjective"]', '朝の頭痛が続く');
  await doctor.fill('#draft textarea[name="objective"]', '家庭血圧 152/94、画面上で顔色良好');
  await doctor.fill('#draft textarea[name="assessment"]', '高血圧症');
  await doctor.fill('#draft textarea[name="plan"]', 'アムロジピン 2.5mg 継続');
  await doctor.selectOption('#draft select[name="outcome"]', 'completed_online');
  await doctor.click('#draft form[action$="/note"] button');
  await doctor.waitForURL('**/note?done=record_saved');
  // Finalising an online visit waits for the identity check.
  await doctor.click('#finalise');
  assert.match(await doctor.textContent('.error'), /本人確認/);
  await doctor.check('input[name="method"][value="photo_id"]');
  await doctor.click('#identity button');
  await doctor.waitForURL('**/note?done=record_saved');
  await doctor.click('#finalise');
  await doctor.waitForURL('**/note?done=record_saved');
  const history = await doctor.textContent('#history');
  assert.match(history, /版 1/);
  assert.match(history, /顔写真付きの身分証/);
  assert.match(history, /ビデオ通話/, 'the call times are in the note');
  await shot(doctor, '79-doctor-finalised-note');

  // A change after finalising needs a reason and becomes version 2; version 1 stays.
  await doctor.fill('#amend textarea[name="plan"]', 'アムロジピン 5mg に増量');
  await doctor.fill('#amend input[name="reason"]', '用量の記載誤り');
  await doctor.click('#amend button');
  await doctor.waitForURL('**/note?done=record_saved');
  const amended = await doctor.textContent('#history');
  assert.match(amended, /版 2/);
  assert.match(amended, /用量の記載誤り/);
  assert.match(amended, /2\.5mg 継続/);
  await shot(doctor, '79b-doctor-amended-note');

  await doctor.click('a[href$="/record"]');
  await doctor.waitForSelector('article.print');
  const printed = await doctor.textContent('article.print');
  for (const text of ['市立中央病院', '患者さん本人がアプリで同意', '5mg に増量', '用量の記載誤り']) {
    assert.ok(printed.includes(text), `${text} in the print view`);
  }
  await doctor.emulateMedia({ media: 'print' });
  await shot(doctor, '79c-record-print');
  await office.close();
});
