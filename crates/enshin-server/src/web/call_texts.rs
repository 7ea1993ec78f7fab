//! The words of the video consultation pages, Japanese and English (a part of
//! [`super::texts::Texts`]). The status lines are handed to the call script as data attributes,
//! so the script itself holds no words.

/// Call texts in one language.
pub struct CallTexts {
    /// Heading.
    pub title: &'static str,
    /// Link from a visit to its call.
    pub enter: &'static str,
    /// Heading of the other side's identity.
    pub patient: &'static str,
    /// Label: doctor.
    pub doctor: &'static str,
    /// Label: clinic.
    pub clinic: &'static str,
    /// Label: the clinic's telephone.
    pub phone: &'static str,
    /// Hint: call the clinic when the video fails.
    pub phone_hint: &'static str,
    /// Label: birth date.
    pub birth_date: &'static str,
    /// Label: kana.
    pub kana: &'static str,
    /// Label: the visit.
    pub visit: &'static str,
    /// Button: admit the waiting patient.
    pub admit: &'static str,
    /// Button: mute / unmute.
    pub mute: &'static str,
    /// Button label while muted.
    pub unmute: &'static str,
    /// Button: camera off.
    pub camera_off: &'static str,
    /// Button label while the camera is off.
    pub camera_on: &'static str,
    /// Button: leave (the other side stays).
    pub leave: &'static str,
    /// Button: end the consultation for both.
    pub end: &'static str,
    /// Asks before ending.
    pub end_confirm: &'static str,
    /// Says that nothing is recorded.
    pub no_recording: &'static str,
    /// Status: connecting to the room.
    pub s_connecting: &'static str,
    /// Status (patient): waiting to be admitted.
    pub s_waiting: &'static str,
    /// Status (doctor): nobody in the waiting room.
    pub s_alone: &'static str,
    /// Status (doctor): the patient waits.
    pub s_patient_waiting: &'static str,
    /// Status: starting the video.
    pub s_starting: &'static str,
    /// Status: in the call.
    pub s_live: &'static str,
    /// Status: the other side left.
    pub s_peer_left: &'static str,
    /// Status: reconnecting after a drop.
    pub s_reconnecting: &'static str,
    /// Status: this socket was replaced by another device.
    pub s_replaced: &'static str,
    /// Status: the doctor ended the consultation.
    pub s_ended: &'static str,
    /// Status: camera or microphone refused.
    pub s_no_media: &'static str,
    /// Status: the room cannot be entered.
    pub s_refused: &'static str,
    /// Status: the person left.
    pub s_left: &'static str,
    /// Status: the session ended (log-out elsewhere, time-out).
    pub s_session_ended: &'static str,
    /// Link: test camera and microphone.
    pub test_link: &'static str,
    /// Heading of the test page.
    pub test_title: &'static str,
    /// Explains the test page.
    pub test_intro: &'static str,
    /// Button: start the test.
    pub test_start: &'static str,
    /// Label: the microphone level.
    pub test_level: &'static str,
    /// Button: play a test sound.
    pub test_sound: &'static str,
    /// Result: camera and microphone work.
    pub test_ok: &'static str,
    /// Result: they could not be used.
    pub test_failed: &'static str,
    /// Label of the clinic contact setting.
    pub contact_label: &'static str,
    /// Hint under it.
    pub contact_hint: &'static str,
    /// Notice: the contact was saved.
    pub contact_saved: &'static str,
    /// Heading of the call record on an appointment.
    pub record: &'static str,
}

/// Japanese.
pub static JA: CallTexts = CallTexts {
    title: "ビデオ診療",
    enter: "ビデオ診療に入る",
    patient: "患者さん",
    doctor: "医師",
    clinic: "医療機関",
    phone: "電話",
    phone_hint: "映像や音声がつながらないときは、こちらへお電話ください。",
    birth_date: "生年月日",
    kana: "ふりがな",
    visit: "予約",
    admit: "入室を許可",
    mute: "マイクを切る",
    unmute: "マイクを入れる",
    camera_off: "カメラを切る",
    camera_on: "カメラを入れる",
    leave: "退出",
    end: "診療を終了",
    end_confirm: "患者さんとの通話を終了しますか?",
    no_recording: "この通話は録画・録音されません。",
    s_connecting: "接続しています…",
    s_waiting: "待合室にいます。医師が入室を許可するまでお待ちください。",
    s_alone: "患者さんはまだ待合室にいません。",
    s_patient_waiting: "患者さんが待合室にいます。本人確認のうえ入室を許可してください。",
    s_starting: "映像をつないでいます…",
    s_live: "通話中",
    s_peer_left: "相手が退出しました。戻るのを待っています…",
    s_reconnecting: "接続が切れました。つなぎ直しています…",
    s_replaced: "別の端末でこの診療に入ったため、この画面の通話は終わりました。",
    s_ended: "診療は終了しました。",
    s_no_media: "カメラかマイクを使えません。ブラウザの設定で許可してください。",
    s_refused: "この通話には入れません。ページを開き直してください。",
    s_left: "退出しました。",
    s_session_ended: "ログインが終了したため、通話を終えました。もう一度ログインしてください。",
    test_link: "カメラとマイクを試す",
    test_title: "カメラとマイクのテスト",
    test_intro: "診療の前に、カメラの映像、マイクの音、スピーカーの音を確かめましょう。映像と音はこの端末の中だけで使われ、送られません。",
    test_start: "テストを始める",
    test_level: "マイクの音量",
    test_sound: "テスト音を鳴らす",
    test_ok: "カメラとマイクを使えます。",
    test_failed: "カメラかマイクを使えません。ブラウザの設定で許可してください。",
    contact_label: "患者さん向けの電話番号",
    contact_hint: "ビデオ診療中、患者さんの画面にいつも表示されます。",
    contact_saved: "電話番号を保存しました。",
    record: "通話の記録",
};

/// English.
pub static EN: CallTexts = CallTexts {
    title: "Video consultation",
    enter: "Join the video consultation",
    patient: "Patient",
    doctor: "Doctor",
    clinic: "Clinic",
    phone: "Phone",
    phone_hint: "If video or sound does not work, please call this number.",
    birth_date: "Date of birth",
    kana: "Kana",
    visit: "Appointment",
    admit: "Admit the patient",
    mute: "Mute",
    unmute: "Unmute",
    camera_off: "Camera off",
    camera_on: "Camera on",
    leave: "Leave",
    end: "End the consultation",
    end_confirm: "End the call with the patient?",
    no_recording: "This call is not recorded.",
    s_connecting: "Connecting…",
    s_waiting: "You are in the waiting room. Please wait until the doctor lets you in.",
    s_alone: "The patient is not in the waiting room yet.",
    s_patient_waiting: "The patient is waiting. Check who they are, then admit them.",
    s_starting: "Starting the video…",
    s_live: "In the call",
    s_peer_left: "The other side left. Waiting for them to return…",
    s_reconnecting: "The connection dropped. Reconnecting…",
    s_replaced: "You joined this consultation on another device, so the call on this screen ended.",
    s_ended: "The consultation has ended.",
    s_no_media: "The camera or microphone cannot be used. Allow them in the browser's settings.",
    s_refused: "You cannot join this call. Reload the page.",
    s_left: "You left the call.",
    s_session_ended: "Your session ended, so the call ended. Please log in again.",
    test_link: "Test camera and microphone",
    test_title: "Camera and microphone test",
    test_intro: "Before your visit, check the camera picture, the microphone and the speaker. Picture and sound stay on this device; nothing is sent.",
    test_start: "Start the test",
    test_level: "Microphone level",
    test_sound: "Play a test sound",
    test_ok: "The camera and microphone work.",
    test_failed: "The camera or microphone cannot be used. Allow them in the browser's settings.",
    contact_label: "Phone number for patients",
    contact_hint: "Patients always see it during a video consultation.",
    contact_saved: "The phone number was saved.",
    record: "Call record",
};
