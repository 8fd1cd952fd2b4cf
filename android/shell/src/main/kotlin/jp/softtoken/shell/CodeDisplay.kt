// How codes and serials are laid out for eyes and for screen readers.
//
// Customers copy the code by eye into internet banking within seconds, so it is grouped in
// halves (`123 456`, `1234 5678`): the core does that, for both apps and the desktop token.
// TalkBack and VoiceOver would read `123456` as "one hundred twenty-three thousand…", so the
// spoken form separates every digit.
package jp.softtoken.shell

/** Display rules for codes and serials. */
object CodeDisplay {
    /**
     * [text] for a screen reader, one symbol at a time: `1 2 3, 4 5 6`. The comma between
     * groups makes TalkBack/VoiceOver pause where the eye sees the gap.
     */
    fun spoken(text: String): String =
        text.trim().split(Regex("\\s+")).filter { it.isNotEmpty() }.joinToString(", ") { group ->
            group.toCharArray().joinToString(" ")
        }

    /** The countdown as the seeds show it: `0:58`. */
    fun countdown(secondsLeft: Int): String {
        val s = secondsLeft.coerceAtLeast(0)
        return "%d:%02d".format(s / 60, s % 60)
    }

    /** The share of the period still left, 0.0–1.0, for a progress ring. */
    fun remainingFraction(secondsLeft: Int, periodSeconds: Int): Float =
        if (periodSeconds <= 0) 0f else (secondsLeft.toFloat() / periodSeconds).coerceIn(0f, 1f)
}

/** A code ready to draw. `toString` hides the codes. */
class CodeView(snapshot: CodeSnapshot) {
    /** `123 456`. */
    val grouped: String = snapshot.codeGrouped

    /** `1 2 3, 4 5 6`, for TalkBack / VoiceOver. */
    val spoken: String = CodeDisplay.spoken(grouped)

    /** The code without spaces, for the copy button. */
    val plain: String = snapshot.code

    /** The next code, grouped (shown small when few seconds are left). */
    val nextGrouped: String = snapshot.nextCodeGrouped

    /** The next code digit by digit (`0 7 0 8, 1 8 0 4`): TalkBack must not read it as a number. */
    val nextSpoken: String = CodeDisplay.spoken(nextGrouped)

    /** Seconds left. */
    val secondsLeft: Int = snapshot.secondsLeft

    /** `0:58`. */
    val countdown: String = CodeDisplay.countdown(snapshot.secondsLeft)

    /** 0.0–1.0 of the period left. */
    val remaining: Float = CodeDisplay.remainingFraction(snapshot.secondsLeft, snapshot.periodSeconds)

    /** True in the last few seconds, when the app suggests waiting for the next code. */
    val expiringSoon: Boolean = snapshot.secondsLeft <= EXPIRING_SOON_SECONDS

    override fun toString(): String = "CodeView(secondsLeft=$secondsLeft)"

    companion object {
        /** Below this many seconds a customer rarely finishes typing in time. */
        const val EXPIRING_SOON_SECONDS = 5
    }
}
