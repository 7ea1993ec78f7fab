//! The texts of every e-mail and SMS enshin sends, Japanese first and English second in one
//! message (the recipient's language is not known before they log in). No letter takes a
//! patient's data as input, so none can carry it (DATA-2): they say that something is waiting,
//! or carry a code or a link.

use crate::code::{Purpose, TTL_MS};

/// One message: the subject and body of an e-mail, and the shorter text of an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// E-mail subject.
    pub subject: String,
    /// E-mail body.
    pub body: String,
    /// SMS text.
    pub sms: String,
}

/// A one-time code for a password reset or a contact check.
pub fn code(purpose: Purpose, code: &str) -> Letter {
    let minutes = TTL_MS / 60_000;
    let (ja, en) = match purpose {
        Purpose::Reset => ("パスワード再設定", "password reset"),
        Purpose::VerifyEmail | Purpose::VerifyPhone => ("連絡先の確認", "contact check"),
    };
    Letter {
        subject: format!("【遠診】{ja}の確認コード / enshin {en} code"),
        body: format!(
            "遠診の{ja}の確認コードは {code} です。{minutes}分間有効です。\n\
             お心当たりがない場合は、このメールを破棄してください。\n\n\
             Your enshin {en} code is {code}. It is valid for {minutes} minutes.\n\
             If you did not ask for it, ignore this message.\n"
        ),
        sms: format!("遠診 {ja}コード: {code}({minutes}分有効)/ enshin code {code}"),
    }
}

/// The break-glass notice to a clinic's administrator: who and when, not why or whom (the
/// reason is free text an operator typed).
pub fn break_glass(clinic: &str, operator: &str, start: &str, end: &str) -> Letter {
    Letter {
        subject: "【遠診】運営者による緊急時アクセス / Emergency operator access".into(),
        body: format!(
            "{clinic} 管理者様\n\n\
             運営者 {operator} が緊急時アクセス(ブレークグラス)を開始しました。\n\
             期間: {start} 〜 {end}(日本時間)\n\
             理由と閲覧された記録は、クリニック画面の「運営者アクセス」でご確認ください。\n\
             不要なアクセスは同じ画面から直ちに終了できます。\n\n\
             Operator {operator} started emergency (break-glass) access to your clinic's data\n\
             from {start} until {end} (Japan time). The reason and every record read are on the\n\
             \"Operator access\" page of the clinic console, where you can also end the access.\n"
        ),
        sms: format!(
            "遠診: 運営者 {operator} が緊急時アクセスを開始しました。管理画面でご確認ください。"
        ),
    }
}

/// Emergency accounts for a clinic's administrator: `accounts` are (login ID, password, role).
pub fn emergency_accounts(clinic: &str, end: &str, accounts: &[(&str, &str, &str)]) -> Letter {
    let lines: String = accounts
        .iter()
        .map(|(login, password, role)| {
            format!("  ID: {login}  パスワード / password: {password}  役割 / role: {role}\n")
        })
        .collect();
    Letter {
        subject: "【遠診】緊急用アカウントの発行 / Emergency accounts".into(),
        body: format!(
            "{clinic} 管理者様\n\n\
             非常時対応のため、通常のIDを一時的に停止し、緊急用アカウントを発行しました。\n\
             次のIDとパスワードを職員の方にお伝えください。{end}(日本時間)に自動で失効し、\n\
             その後は通常のIDに戻ります。このメールは他の人に転送しないでください。\n\n\
             For an emergency, your clinic's normal IDs are held and these emergency accounts were\n\
             issued. Give them to your staff; they expire by themselves at {end} (Japan time), and\n\
             your normal IDs work again afterwards. Do not forward this message.\n\n{lines}"
        ),
        sms: String::new(),
    }
}

/// A clinic admin's single-use password-reset link.
pub fn admin_reset_link(link: &str, minutes: i64) -> Letter {
    Letter {
        subject: "【遠診】パスワード再設定のご案内 / enshin password reset".into(),
        body: format!(
            "次のリンクを、クリニック証明書を入れたパソコンで開き、新しいパスワードを設定してください。\n\
             リンクは{minutes}分間、1回だけ有効です。お心当たりがない場合は破棄してください。\n\n\
             Open this link on a clinic PC (with the clinic certificate) and set a new password.\n\
             It works once, for {minutes} minutes. If you did not ask for it, ignore this message.\n\n\
             {link}\n"
        ),
        sms: String::new(),
    }
}

/// When a visit reminder goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// The day before.
    DayBefore,
    /// About an hour before.
    HourBefore,
}

/// A visit reminder to a patient: only that a visit is coming and where to see it. The clinic,
/// the time and the menu stay in the app, since which clinic a person sees is A-class (DATA-2).
pub fn reminder(kind: ReminderKind, link: &str) -> Letter {
    let (ja, en) = match kind {
        ReminderKind::DayBefore => ("明日", "tomorrow"),
        ReminderKind::HourBefore => ("まもなく(約1時間後)", "in about an hour"),
    };
    Letter {
        subject: "【遠診】ご予約のお知らせ / Visit reminder".into(),
        body: format!(
            "{ja}、遠診でのご予約があります。日時と内容は、ログインして「予約」でご確認ください。\n\
             ご都合が悪くなった場合は、同じ画面から変更・キャンセルできます(締切後はクリニックへお電話ください)。\n\n\
             You have a visit booked through enshin {en}. Log in and open \"Appointments\" to see when\n\
             and where; you can move or cancel it there (after the clinic's deadline, please call them).\n\n\
             {link}\n"
        ),
        sms: format!(
            "遠診: {ja}ご予約があります。アプリでご確認ください。/ enshin: visit {en}. {link}"
        ),
    }
}
