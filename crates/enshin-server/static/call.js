// The video consultation pages (FUNC-5). The room page asks the server for a join credential
// and ICE servers, opens the signalling socket with the credential as a second subprotocol, and
// runs one RTCPeerConnection: the doctor's side offers, the patient's answers. Media goes from
// browser to browser (or through TURN); nothing is recorded. The test page uses the camera and
// microphone on this device only.

const room = document.getElementById('call');
if (room && room.dataset.appointment) startRoom(room);
const test = document.getElementById('call-test');
if (test) startTest(test);

function startRoom(root) {
  const id = encodeURIComponent(root.dataset.appointment);
  const doctor = root.dataset.role === 'doctor';
  const status = document.getElementById('call-status');
  const remote = document.getElementById('remote');
  const admit = document.getElementById('admit');
  let local = null;
  let pc = null;
  let ws = null;
  let iceServers = [];
  let pending = [];
  let over = false;
  let retries = 0;

  const say = (key) => {
    status.textContent = root.dataset[key] || '';
    root.dataset.state = key;
  };
  const send = (message) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const showAdmit = (show) => {
    if (admit) admit.hidden = !show;
  };

  function closePeer() {
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
      pc = null;
    }
    pending = [];
    remote.srcObject = null;
  }

  function newPeer() {
    closePeer();
    pc = new RTCPeerConnection({ iceServers });
    for (const track of local.getTracks()) pc.addTrack(track, local);
    pc.ontrack = (event) => {
      if (remote.srcObject !== event.streams[0]) remote.srcObject = event.streams[0];
    };
    pc.onicecandidate = (event) => {
      if (event.candidate && event.candidate.candidate) {
        send({
          type: 'candidate',
          candidate: event.candidate.candidate,
          sdp_mid: event.candidate.sdpMid,
          sdp_m_line_index: event.candidate.sdpMLineIndex,
        });
      }
    };
    pc.onconnectionstatechange = () => {
      if (!pc) return;
      if (pc.connectionState === 'connected') say('sLive');
      if (pc.connectionState === 'failed') {
        // A changed network: the doctor's side offers again, the patient's asks it to.
        say('sReconnecting');
        if (doctor) offer(); else send({ type: 'restart' });
      }
    };
  }

  async function offer() {
    newPeer();
    const description = await pc.createOffer();
    await pc.setLocalDescription(description);
    send({ type: 'description', kind: 'offer', sdp: description.sdp });
  }

  async function flush() {
    for (const candidate of pending) await pc.addIceCandidate(candidate).catch(() => {});
    pending = [];
  }

  async function onMessage(m) {
    switch (m.type) {
      case 'joined':
        retries = 0;
        say(doctor ? 'sAlone' : m.admitted ? 'sStarting' : 'sWaiting');
        break;
      case 'peer':
        if (doctor && m.waiting) {
          say('sPatientWaiting');
          showAdmit(true);
        }
        break;
      case 'admitted':
        say('sStarting');
        break;
      case 'start':
        showAdmit(false);
        say('sStarting');
        if (doctor) await offer(); else newPeer();
        break;
      case 'description':
        if (m.kind === 'offer' && !doctor) {
          newPeer();
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          send({ type: 'description', kind: 'answer', sdp: answer.sdp });
          await flush();
        } else if (m.kind === 'answer' && doctor && pc) {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          await flush();
        }
        break;
      case 'candidate': {
        const candidate = { candidate: m.candidate, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_m_line_index };
        if (pc && pc.remoteDescription) await pc.addIceCandidate(candidate).catch(() => {});
        else pending.push(candidate);
        break;
      }
      case 'peer_left':
        closePeer();
        showAdmit(false);
        say(doctor ? 'sAlone' : 'sPeerLeft');
        break;
      case 'replaced':
        finish('sReplaced');
        break;
      case 'ended':
        finish('sEnded');
        break;
      case 'session_ended':
        finish('sSessionEnded');
        break;
      case 'error':
        console.warn('enshin call:', m.message);
        break;
    }
  }

  function finish(key) {
    over = true;
    closePeer();
    showAdmit(false);
    if (ws) ws.close(1000);
    if (local) for (const track of local.getTracks()) track.stop();
    for (const b of root.querySelectorAll('.call-buttons button')) b.disabled = true;
    say(key);
  }

  function later() {
    if (over) return;
    closePeer();
    say('sReconnecting');
    const wait = Math.min(1000 * 2 ** retries, 10000);
    retries += 1;
    setTimeout(connect, wait);
  }

  async function connect() {
    if (over) return;
    let grant;
    try {
      const response = await fetch(`/api/v1/appointments/${id}/call`, { method: 'POST', credentials: 'same-origin' });
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        finish('sRefused');
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      grant = await response.json();
    } catch {
      later();
      return;
    }
    iceServers = grant.ice_servers;
    ws = new WebSocket(`wss://${location.host}/api/v1/appointments/${id}/call/signal`, [grant.protocol, grant.credential]);
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      onMessage(message).catch((error) => console.warn('enshin call:', error));
    };
    ws.onclose = () => {
      ws = null;
      later();
    };
  }

  function toggle(button, kind) {
    button.addEventListener('click', () => {
      if (!local) return;
      const tracks = kind === 'audio' ? local.getAudioTracks() : local.getVideoTracks();
      const on = !tracks.every((t) => t.enabled);
      for (const t of tracks) t.enabled = on;
      button.textContent = on ? button.dataset.on : button.dataset.off;
      button.setAttribute('aria-pressed', String(!on));
    });
  }

  toggle(document.getElementById('mute'), 'audio');
  toggle(document.getElementById('camera'), 'video');
  document.getElementById('leave').addEventListener('click', () => finish('sLeft'));
  const end = document.getElementById('end');
  if (end) {
    end.addEventListener('click', () => {
      if (window.confirm(end.dataset.confirm)) send({ type: 'end' });
    });
  }
  if (admit) {
    admit.addEventListener('click', () => {
      showAdmit(false);
      send({ type: 'admit' });
    });
  }

  say('sConnecting');
  navigator.mediaDevices
    .getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } })
    .then((stream) => {
      local = stream;
      document.getElementById('local').srcObject = stream;
      connect();
    })
    .catch(() => finish('sNoMedia'));
}

function startTest(root) {
  const result = document.getElementById('test-result');
  const meter = document.getElementById('test-level');
  let audio = null;

  document.getElementById('test-start').addEventListener('click', async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      document.getElementById('test-video').srcObject = stream;
      audio = new AudioContext();
      const analyser = audio.createAnalyser();
      analyser.fftSize = 512;
      audio.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const tick = () => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
        requestAnimationFrame(tick);
      };
      tick();
      result.textContent = root.dataset.ok;
      root.dataset.result = 'ok';
    } catch {
      result.textContent = root.dataset.failed;
      root.dataset.result = 'failed';
    }
  });

  document.getElementById('test-sound').addEventListener('click', () => {
    const context = audio || new AudioContext();
    const tone = context.createOscillator();
    tone.frequency.value = 440;
    tone.connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.6);
  });
}
