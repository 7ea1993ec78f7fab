//! The words of the home-monitoring pages (records, charts, devices, thresholds and alerts),
//! Japanese and English (a part of [`super::texts::Texts`]).

use enshin_core::vitals::Kind;

/// Monitoring texts in one language.
pub struct MonitoringTexts {
    /// Navigation and heading: a patient's home records.
    pub nav_records: &'static str,
    /// Navigation and heading: the clinic's alerts.
    pub nav_alerts: &'static str,
    /// Heading of the form.
    pub record_heading: &'static str,
    /// Blood pressure.
    pub pressure: &'static str,
    /// The upper (systolic) value.
    pub upper: &'static str,
    /// The lower (diastolic) value.
    pub lower: &'static str,
    /// The other kinds, folded.
    pub other_kinds: &'static str,
    /// Label: measured at.
    pub measured_at: &'static str,
    /// Hint under the time.
    pub now_hint: &'static str,
    /// Label: note.
    pub note: &'static str,
    /// Button: record.
    pub save: &'static str,
    /// Heading: recent readings.
    pub recent: &'static str,
    /// No readings yet.
    pub no_readings: &'static str,
    /// Heading: charts.
    pub charts: &'static str,
    /// The ranges, shortest first.
    pub ranges: [&'static str; 3],
    /// Names of the kinds, in the order of [`Kind::ALL`].
    pub kinds: [&'static str; 10],
    /// A chart without readings in its period.
    pub no_data: &'static str,
    /// Heading: devices.
    pub devices_title: &'static str,
    /// Explains devices.
    pub devices_intro: &'static str,
    /// Label: device name.
    pub device_name: &'static str,
    /// Button: register a device.
    pub register_device: &'static str,
    /// Shown with a new token.
    pub token_once: &'static str,
    /// Button: revoke a device.
    pub revoke: &'static str,
    /// A revoked device.
    pub revoked: &'static str,
    /// Label: last batch.
    pub last_used: &'static str,
    /// Never used.
    pub never: &'static str,
    /// Label: time zone.
    pub time_zone: &'static str,
    /// Button: change the zone.
    pub change: &'static str,
    /// Typed by the patient.
    pub source_manual: &'static str,
    /// Sent by a device.
    pub source_device: &'static str,
    /// A record not linked to an account.
    pub not_linked: &'static str,
    /// Heading: thresholds.
    pub thresholds: &'static str,
    /// Explains thresholds.
    pub thresholds_intro: &'static str,
    /// Label: upper limit.
    pub above: &'static str,
    /// Label: lower limit.
    pub below: &'static str,
    /// Button: set.
    pub set: &'static str,
    /// Button: remove.
    pub remove: &'static str,
    /// Link: CSV.
    pub export: &'static str,
    /// Link: printable view.
    pub print: &'static str,
    /// Link: back to the full page.
    pub back: &'static str,
    /// Show open alerts.
    pub open_alerts: &'static str,
    /// Show all alerts.
    pub all_alerts: &'static str,
    /// No open alerts.
    pub no_alerts: &'static str,
    /// Label: what was done.
    pub comment: &'static str,
    /// Button: acknowledge.
    pub acknowledge: &'static str,
    /// Label: acknowledged.
    pub acknowledged: &'static str,
    /// Column: measurement.
    pub kind: &'static str,
    /// Column: value.
    pub value: &'static str,
    /// Column: raised at.
    pub raised: &'static str,
    /// Link: the patient's records.
    pub open_records: &'static str,
    /// Notices.
    pub recorded: &'static str,
    /// Notice.
    pub threshold_saved: &'static str,
    /// Notice.
    pub alert_acknowledged: &'static str,
    /// Notice.
    pub device_revoked: &'static str,
    /// Notice.
    pub zone_saved: &'static str,
    /// Button: withdraw a reading entered by mistake.
    pub withdraw: &'static str,
    /// Notice.
    pub withdrawn: &'static str,
}

impl MonitoringTexts {
    /// The name of a kind.
    pub fn kind(&self, kind: Kind) -> &'static str {
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.kinds[i]
    }

    /// The label of a monitoring field named in an error.
    pub fn field(&self, field: &str) -> &'static str {
        match field {
            "measured_at" => self.measured_at,
            "note" => self.note,
            "name" => self.device_name,
            "time_zone" => self.time_zone,
            "above" => self.above,
            "below" => self.below,
            "comment" => self.comment,
            other => Kind::parse(other).map_or("", |k| self.kind(k)),
        }
    }
}

/// 日本語.
pub static JA: MonitoringTexts = MonitoringTexts {
    nav_records: "生活記録",
    nav_alerts: "アラート",
    record_heading: "記録する",
    pressure: "血圧",
    upper: "上(最高)",
    lower: "下(最低)",
    other_kinds: "ほかの項目",
    measured_at: "測定日時",
    now_hint: "空欄なら今の時刻で記録します。",
    note: "メモ",
    save: "記録する",
    recent: "最近の記録",
    no_readings: "まだ記録がありません。",
    charts: "グラフ",
    ranges: ["2週間", "3か月", "1年"],
    kinds: [
        "体重",
        "最高血圧",
        "最低血圧",
        "脈拍",
        "呼吸数",
        "SpO2",
        "体温",
        "血糖値",
        "HbA1c",
        "歩数",
    ],
    no_data: "この期間の記録はありません",
    devices_title: "測定機器",
    devices_intro: "血圧計などの機器(またはその連携アプリ)を登録すると、機器が測定値を自動で送ります。機器ごとのトークンは登録時に一度だけ表示されます。",
    device_name: "機器の名前",
    register_device: "登録する",
    token_once: "この機器のトークンです。この画面でだけ表示します。機器の設定に入力してください。",
    revoke: "登録を解除",
    revoked: "解除済み",
    last_used: "最終送信",
    never: "未使用",
    time_zone: "タイムゾーン",
    change: "変更",
    source_manual: "手入力",
    source_device: "機器",
    not_linked: "この患者さんはまだアカウントと連携していないため、生活記録はありません。",
    thresholds: "アラートのしきい値",
    thresholds_intro: "値が範囲を外れたときに一度だけアラートが出ます。メールで値を送ることはありません。",
    above: "上限",
    below: "下限",
    set: "設定",
    remove: "削除",
    export: "CSVで書き出す",
    print: "印刷用表示",
    back: "戻る",
    open_alerts: "未対応",
    all_alerts: "すべて",
    no_alerts: "未対応のアラートはありません。",
    comment: "対応内容",
    acknowledge: "対応済みにする",
    acknowledged: "対応済み",
    kind: "項目",
    value: "値",
    raised: "発生",
    open_records: "生活記録",
    recorded: "記録しました。",
    threshold_saved: "しきい値を保存しました。",
    alert_acknowledged: "アラートを対応済みにしました。",
    device_revoked: "機器の登録を解除しました。",
    zone_saved: "タイムゾーンを変更しました。",
    withdraw: "取り消す",
    withdrawn: "記録を取り消しました。グラフと一覧には出ません。",
};

/// English.
pub static EN: MonitoringTexts = MonitoringTexts {
    nav_records: "Home records",
    nav_alerts: "Alerts",
    record_heading: "Record",
    pressure: "Blood pressure",
    upper: "Upper (systolic)",
    lower: "Lower (diastolic)",
    other_kinds: "Other measurements",
    measured_at: "Measured at",
    now_hint: "Leave empty to record it now.",
    note: "Note",
    save: "Save",
    recent: "Recent readings",
    no_readings: "No readings yet.",
    charts: "Charts",
    ranges: ["2 weeks", "3 months", "1 year"],
    kinds: [
        "Weight",
        "Systolic pressure",
        "Diastolic pressure",
        "Pulse",
        "Respiratory rate",
        "SpO2",
        "Temperature",
        "Blood glucose",
        "HbA1c",
        "Steps",
    ],
    no_data: "No readings in this period",
    devices_title: "Measuring devices",
    devices_intro: "Register a device (a blood pressure monitor or its app) and it sends its readings by itself. Each device's token is shown once, when you register it.",
    device_name: "Device name",
    register_device: "Register",
    token_once: "This is the device's token. It is shown only on this page: enter it in the device's settings.",
    revoke: "Revoke",
    revoked: "revoked",
    last_used: "Last sent",
    never: "never",
    time_zone: "Time zone",
    change: "Change",
    source_manual: "typed",
    source_device: "device",
    not_linked: "This patient has not linked an account yet, so there are no home records.",
    thresholds: "Alert thresholds",
    thresholds_intro: "A reading that leaves the range raises one alert. Values are never sent by e-mail.",
    above: "Upper limit",
    below: "Lower limit",
    set: "Set",
    remove: "Remove",
    export: "Export CSV",
    print: "Printable view",
    back: "Back",
    open_alerts: "Open",
    all_alerts: "All",
    no_alerts: "No open alerts.",
    comment: "What was done",
    acknowledge: "Acknowledge",
    acknowledged: "Acknowledged",
    kind: "Measurement",
    value: "Value",
    raised: "Raised",
    open_records: "Home records",
    recorded: "Saved.",
    threshold_saved: "The threshold was saved.",
    alert_acknowledged: "The alert was acknowledged.",
    device_revoked: "The device was revoked.",
    zone_saved: "The time zone was changed.",
    withdraw: "Withdraw",
    withdrawn: "The reading was withdrawn; it no longer shows in charts and lists.",
};
