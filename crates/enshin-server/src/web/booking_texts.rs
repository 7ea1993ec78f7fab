//! The words of the booking, worklist, schedule and registry pages, Japanese and English (a part of
//! [`super::texts::Texts`], kept apart so the main table stays readable).

/// Booking texts in one language.
pub struct BookingTexts {
    /// Navigation: a patient's appointments.
    pub nav_appointments: &'static str,
    /// Navigation: the reception worklist.
    pub nav_worklist: &'static str,
    /// Navigation: the booking setup.
    pub nav_schedule: &'static str,
    /// Heading of a patient's appointments.
    pub appointments_title: &'static str,
    /// No appointments.
    pub no_appointments: &'static str,
    /// Link and heading: book a visit.
    pub book: &'static str,
    /// Asks for a menu.
    pub choose_menu: &'static str,
    /// Asks for a time.
    pub choose_slot: &'static str,
    /// No free slot in the period shown.
    pub no_slots: &'static str,
    /// The next days.
    pub later: &'static str,
    /// The days before.
    pub earlier: &'static str,
    /// Button: cancel a visit.
    pub cancel_visit: &'static str,
    /// Link and heading: move a visit.
    pub move_visit: &'static str,
    /// Explains the deadline, followed by minutes.
    pub deadline: &'static str,
    /// States.
    pub states: [&'static str; 6],
    /// Online visit.
    pub online: &'static str,
    /// Visit at the clinic.
    pub in_person: &'static str,
    /// First visit.
    pub first: &'static str,
    /// Repeat visit.
    pub repeat: &'static str,
    /// After a number of minutes.
    pub minutes: &'static str,
    /// After an amount of yen.
    pub yen: &'static str,
    /// Label: doctor.
    pub doctor: &'static str,
    /// Label: clinic.
    pub clinic: &'static str,
    /// Heading of the worklist.
    pub worklist_title: &'static str,
    /// Column: time.
    pub time: &'static str,
    /// Column: patient.
    pub patient: &'static str,
    /// Column: visit (menu).
    pub visit: &'static str,
    /// Column: state.
    pub state: &'static str,
    /// Every doctor (filter).
    pub all_doctors: &'static str,
    /// Button: show the chosen day and doctor.
    pub show: &'static str,
    /// Buttons moving a visit to confirmed, in consultation, completed, no-show, cancelled.
    pub actions: [&'static str; 5],
    /// No appointment that day.
    pub none_that_day: &'static str,
    /// The worklist updates itself.
    pub live: &'static str,
    /// Label: date.
    pub date: &'static str,
    /// Heading of the booking setup.
    pub schedule_title: &'static str,
    /// Heading: booking rules.
    pub rules_title: &'static str,
    /// Self-booking switch.
    pub self_booking: &'static str,
    /// Deadline field.
    pub deadline_minutes: &'static str,
    /// Time-zone field.
    pub time_zone: &'static str,
    /// Button: save.
    pub save: &'static str,
    /// Heading: menus.
    pub menus_title: &'static str,
    /// Menu name field.
    pub menu_name: &'static str,
    /// Mode field.
    pub mode: &'static str,
    /// First or repeat field.
    pub first_or_repeat: &'static str,
    /// Length field.
    pub length: &'static str,
    /// Fee field.
    pub fee: &'static str,
    /// Button: add a menu.
    pub add: &'static str,
    /// Button: withdraw a menu.
    pub withdraw: &'static str,
    /// Button: offer a menu again.
    pub offer: &'static str,
    /// Marks a withdrawn menu.
    pub withdrawn: &'static str,
    /// Heading: a doctor's hours.
    pub hours_title: &'static str,
    /// Weekday names, Monday first.
    pub weekdays: [&'static str; 7],
    /// Start field.
    pub start: &'static str,
    /// End field.
    pub end: &'static str,
    /// Hint for the week form.
    pub hours_hint: &'static str,
    /// Heading: days off and changed hours.
    pub days_title: &'static str,
    /// Marks a closed day.
    pub closed: &'static str,
    /// Button: remove a day's exception.
    pub remove: &'static str,
    /// Button: set a day's exception.
    pub set_day: &'static str,
    /// Hint for the day form.
    pub day_hint: &'static str,
    /// No doctor in the clinic yet.
    pub no_doctors: &'static str,
    /// Notice: booked (confirmed).
    pub booked: &'static str,
    /// Notice: asked (request).
    pub requested: &'static str,
    /// Notice: cancelled.
    pub cancelled: &'static str,
    /// Notice: moved.
    pub moved: &'static str,
    /// Notice: saved.
    pub saved: &'static str,
    /// Notice: state changed.
    pub state_changed: &'static str,
    /// Registry search field.
    pub search_label: &'static str,
    /// Button: search.
    pub search: &'static str,
    /// Label: sex.
    pub sex: &'static str,
    /// Sexes (male, female, other, unknown).
    pub sexes: [&'static str; 4],
    /// Label: card number.
    pub card_number: &'static str,
    /// Label: contact.
    pub contact: &'static str,
    /// Heading: import.
    pub import_title: &'static str,
    /// What an import file must look like.
    pub import_hint: &'static str,
    /// Label: file.
    pub file: &'static str,
    /// Button: check a file.
    pub check: &'static str,
    /// Button: import.
    pub import: &'static str,
    /// Link: export.
    pub export: &'static str,
    /// Button: download the clinic's whole data set.
    pub export_all: &'static str,
    /// Label: rows ready.
    pub rows_ok: &'static str,
    /// Label: rows with mistakes.
    pub rows_bad: &'static str,
    /// Column: line.
    pub line: &'static str,
    /// Nothing was imported.
    pub nothing_imported: &'static str,
    /// Notice: imported.
    pub imported: &'static str,
}

/// 日本語.
pub static JA: BookingTexts = BookingTexts {
    nav_appointments: "予約",
    nav_worklist: "受付一覧",
    nav_schedule: "予約枠の設定",
    appointments_title: "予約",
    no_appointments: "予約はありません。",
    book: "予約する",
    choose_menu: "受診内容を選んでください",
    choose_slot: "日時を選んでください",
    no_slots: "この期間に空きはありません。",
    later: "次の日程",
    earlier: "前の日程",
    cancel_visit: "キャンセルする",
    move_visit: "日時を変更する",
    deadline: "変更・キャンセルの締切(開始前):",
    states: ["承認待ち", "確定", "診療中", "終了", "キャンセル", "未受診"],
    online: "オンライン",
    in_person: "対面",
    first: "初診",
    repeat: "再診",
    minutes: "分",
    yen: "円",
    doctor: "医師",
    clinic: "クリニック",
    worklist_title: "受付一覧",
    time: "時刻",
    patient: "患者",
    visit: "内容",
    state: "状態",
    all_doctors: "すべての医師",
    show: "表示",
    actions: ["確定", "診療開始", "終了", "未受診", "取消"],
    none_that_day: "この日の予約はありません。",
    live: "この一覧は自動で更新されます。",
    date: "日付",
    schedule_title: "予約枠の設定",
    rules_title: "予約の受け方",
    self_booking: "患者の予約をそのまま確定する(オフのときはクリニックが確定)",
    deadline_minutes: "患者が変更・キャンセルできる締切(開始の何分前まで)",
    time_zone: "タイムゾーン",
    save: "保存",
    menus_title: "受診メニュー",
    menu_name: "名前",
    mode: "方法",
    first_or_repeat: "初診/再診",
    length: "時間(分)",
    fee: "料金(円)",
    add: "追加",
    withdraw: "受付停止",
    offer: "受付再開",
    withdrawn: "停止中",
    hours_title: "診療時間",
    weekdays: ["月", "火", "水", "木", "金", "土", "日"],
    start: "開始",
    end: "終了",
    hours_hint: "空欄の曜日は休診です。",
    days_title: "休診日・時間変更",
    closed: "休診",
    remove: "削除",
    set_day: "この日を設定",
    day_hint: "時刻を空欄にすると休診日になります。",
    no_doctors: "医師が登録されていません。",
    booked: "予約しました。",
    requested: "予約を申し込みました。クリニックが確定するとこの画面に表示されます。",
    cancelled: "キャンセルしました。",
    moved: "日時を変更しました。",
    saved: "保存しました。",
    state_changed: "状態を変更しました。",
    search_label: "カナ・氏名・診察券番号で検索",
    search: "検索",
    sex: "性別",
    sexes: ["男", "女", "その他", "不明"],
    card_number: "診察券番号",
    contact: "連絡先(電話・メール)",
    import_title: "CSVで取り込む",
    import_hint: "1行目は列名(姓,名,姓(カナ),名(カナ),生年月日,性別,診察券番号,連絡先)。文字コードは UTF-8 か Shift_JIS。まず確認画面が出ます。1行でも誤りがあれば、何も取り込みません。",
    file: "ファイル",
    check: "確認する",
    import: "取り込む",
    export: "CSVで書き出す",
    export_all: "データ一式をダウンロード(ZIP)",
    rows_ok: "取り込める行:",
    rows_bad: "誤りのある行:",
    line: "行",
    nothing_imported: "何も取り込んでいません。誤りを直して、もう一度ファイルを選んでください。",
    imported: "取り込みました。",
};

/// English.
pub static EN: BookingTexts = BookingTexts {
    nav_appointments: "Appointments",
    nav_worklist: "Worklist",
    nav_schedule: "Booking setup",
    appointments_title: "My appointments",
    no_appointments: "No appointments.",
    book: "Book a visit",
    choose_menu: "Choose the kind of visit",
    choose_slot: "Choose a time",
    no_slots: "No free times in this period.",
    later: "Later days",
    earlier: "Earlier days",
    cancel_visit: "Cancel",
    move_visit: "Change the time",
    deadline: "Changes and cancellation until this long before the visit:",
    states: [
        "Awaiting confirmation",
        "Confirmed",
        "In consultation",
        "Completed",
        "Cancelled",
        "No-show",
    ],
    online: "Online",
    in_person: "In person",
    first: "First visit",
    repeat: "Repeat visit",
    minutes: " min",
    yen: " yen",
    doctor: "Doctor",
    clinic: "Clinic",
    worklist_title: "Reception worklist",
    time: "Time",
    patient: "Patient",
    visit: "Visit",
    state: "State",
    all_doctors: "All doctors",
    show: "Show",
    actions: ["Confirm", "Start", "Complete", "No-show", "Cancel"],
    none_that_day: "No appointments on this day.",
    live: "This list updates by itself.",
    date: "Date",
    schedule_title: "Booking setup",
    rules_title: "How patients book",
    self_booking: "Confirm patients' bookings at once (off: staff confirm them)",
    deadline_minutes: "Patients may change or cancel until (minutes before the visit)",
    time_zone: "Time zone",
    save: "Save",
    menus_title: "Visit menus",
    menu_name: "Name",
    mode: "Mode",
    first_or_repeat: "First or repeat",
    length: "Length (min)",
    fee: "Fee (yen)",
    add: "Add",
    withdraw: "Withdraw",
    offer: "Offer again",
    withdrawn: "withdrawn",
    hours_title: "Hours",
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    start: "Start",
    end: "End",
    hours_hint: "Leave a day empty when the doctor does not work.",
    days_title: "Days off and changed hours",
    closed: "Closed",
    remove: "Remove",
    set_day: "Set this day",
    day_hint: "Leave the times empty for a day off.",
    no_doctors: "No doctor has been added yet.",
    booked: "Booked.",
    requested: "Your request was sent. It shows here as confirmed once the clinic confirms it.",
    cancelled: "Cancelled.",
    moved: "The time was changed.",
    saved: "Saved.",
    state_changed: "The state was changed.",
    search_label: "Search by kana, name or card number",
    search: "Search",
    sex: "Sex",
    sexes: ["Male", "Female", "Other", "Unknown"],
    card_number: "Card number",
    contact: "Contact (phone or e-mail)",
    import_title: "Import from CSV",
    import_hint: "The first line names the columns (family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,card_number,contact, or the Japanese names). UTF-8 or Shift_JIS. You see a check first; if any row has a mistake, nothing is imported.",
    file: "File",
    check: "Check",
    import: "Import",
    export: "Export as CSV",
    export_all: "Download all data (ZIP)",
    rows_ok: "Rows ready:",
    rows_bad: "Rows with mistakes:",
    line: "Line",
    nothing_imported: "Nothing was imported. Correct the mistakes and choose the file again.",
    imported: "Imported.",
};
